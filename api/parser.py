"""The API's JSON body parser: every request body is a JSON object, or it cannot be read."""

import json
from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser


class ObjectBodyParser(Parser):
    """Parse a body as JSON and refuse anything but an object (ninja answers 400 "Cannot parse request body").

    ninja would otherwise hand a list, number or ``null`` to an operation whose fields all have
    defaults, which then acts on defaults the caller never sent.
    """

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        body = json.loads(request.body)
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return body
