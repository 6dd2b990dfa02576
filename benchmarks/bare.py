"""The stack's limit: a bare Starlette route returning a prerendered page of the same size."""

import os

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

PAGE = "<!doctype html><title>x</title>" + "x" * int(os.environ.get("BENCH_PAGE_BYTES", "12000"))


async def page(request):
    return HTMLResponse(PAGE)


app = Starlette(routes=[Route("/", page)])
