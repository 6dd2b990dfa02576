"""The JSON API for KPK's own tools (``/api/v1``) and the tokens that open it."""
