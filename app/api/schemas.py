"""What the JSON API answers with: pydantic models, which are also its OpenAPI schema.

Only places, organizations, cohorts and counts: no model here has a field for a person's
name, username, contact or any free text a person wrote."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50


SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


# ---------------------------------------------------------------- what a request may ask


class _Query(BaseModel):
    """Query parameters; any other parameter is refused (422), so that a misspelt filter
    never silently answers with everything."""

    model_config = ConfigDict(extra="forbid")


class _Paging(_Query):
    page: int = Field(1, ge=1, le=1_000_000, description="Page number, from 1")
    per_page: int = Field(
        DEFAULT_PER_PAGE,
        ge=1,
        le=MAX_PER_PAGE,
        description=f"Items per page, at most {MAX_PER_PAGE}",
    )


class RegionQuery(_Paging):
    pass


class OrganizationQuery(_Paging):
    region: str | None = Field(
        None, min_length=1, max_length=64, pattern=SLUG_PATTERN, description="A region's slug"
    )


class CohortQuery(OrganizationQuery):
    year: int | None = Field(None, ge=2000, le=2100, description="Year the workshop starts")


# ---------------------------------------------------------------- what the API answers


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegionOut(_Out):
    """A regional government (pemerintah daerah)."""

    slug: str = Field(description="Stable short name, used in filters", examples=["kota-tangerang"])
    name: str = Field(examples=["Kota Tangerang"])
    province: str = Field(examples=["Banten"])
    organizations: int = Field(ge=0, description="Number of its organizations (OPD)")
    cohorts: int = Field(ge=0, description="Number of its cohorts")


class OrganizationOut(_Out):
    """An organization (OPD, organisasi perangkat daerah) of a region."""

    id: int
    name: str = Field(examples=["Dinas Pendidikan"])
    region: str = Field(description="The region's slug", examples=["kota-tangerang"])


class CohortOut(_Out):
    """A cohort (angkatan): one workshop with the learning before and after it."""

    slug: str = Field(examples=["tng-2024"])
    title: str
    region: str = Field(description="The region's slug")
    workshop_start: date
    workshop_end: date
    couples: int = Field(ge=0, description="Number of couples enrolled")


class _Page(_Out):
    page: int = Field(ge=1, description="This page's number, from 1")
    per_page: int = Field(ge=1, le=MAX_PER_PAGE)
    total: int = Field(ge=0, description="Items on all pages together")


class RegionPage(_Page):
    items: list[RegionOut]


class OrganizationPage(_Page):
    items: list[OrganizationOut]


class CohortPage(_Page):
    items: list[CohortOut]


class Problem(BaseModel):
    """An error, as RFC 9457 ``application/problem+json``."""

    type: str = Field(default="about:blank", description="A URI reference naming the problem")
    title: str = Field(description="The HTTP status in words", examples=["Unauthorized"])
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="What went wrong, in English, for the developer")
    errors: list[dict[str, str]] | None = Field(
        default=None, description="For invalid input (422): each parameter and its problem"
    )
