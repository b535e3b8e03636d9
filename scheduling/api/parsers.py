"""The API's JSON parser: deeply nested JSON is bad input (400), not a crash (500)."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # json.loads recurses once per nesting level: "[" * 100_000
            # exhausts the stack. No Clearway body nests more than a few levels.
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
