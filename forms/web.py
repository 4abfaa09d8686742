"""What every form handler shares: the posted form, the client address and the options."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from forms.options import FormsOptions


async def posted_form(request: Request) -> FormData:
    """The posted form (read once; handlers stay synchronous)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(posted_form)]


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy: uvicorn --proxy-headers)."""
    return request.client.host if request.client else "unknown"


def get_forms_options(request: Request) -> FormsOptions:
    """The forms app's options (built by the composition root)."""
    options: FormsOptions = request.app.state.forms
    return options


FormsOptionsDep = Annotated[FormsOptions, Depends(get_forms_options)]
