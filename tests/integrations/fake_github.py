"""A local fake of the parts of GitHub's REST API the App uses.

- `POST /app/installations/{id}/access_tokens`: checks the App's JWT (RS256,
  signed by the App's key, `iss` = the App id, at most 10 minutes long) and
  answers 201 with `token` and `expires_at`, as GitHub documents.
- `POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule`:
  checks the installation token and records the review (`environment_name`,
  `state`, `comment`; or a comment alone); answers 204 No Content.

`fail_callbacks(502, 502)` makes the next two callbacks fail with those statuses.
"""

import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from django.utils import timezone

CALLBACK = re.compile(r"^/repos/[^/]+/[^/]+/actions/runs/(\d+)/deployment_protection_rule$")
TOKEN = re.compile(r"^/app/installations/(\d+)/access_tokens$")


class FakeGitHub:
    def __init__(self, *, app_id: str, public_key: str) -> None:
        self.app_id = app_id
        self.public_key = public_key
        self.base_url = ""
        self.issued: list[str] = []
        self.token_requests: list[dict] = []
        self.callbacks: list[dict] = []
        self.callback_statuses: list[int] = []
        self.token_lifetime = timedelta(hours=1)
        self._lock = threading.Lock()

    def fail_callbacks(self, *statuses: int) -> None:
        self.callback_statuses = list(statuses)

    def reviews(self) -> list[dict]:
        """The callbacks GitHub accepted (2xx), in order."""
        return [c["body"] for c in self.callbacks if c["status"] < 300]

    def answer_token(self, installation: str, authorization: str) -> tuple[int, dict]:
        scheme, _, credential = authorization.partition(" ")
        try:
            claims = jwt.decode(
                credential,
                self.public_key,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"]},
            )
        except jwt.PyJWTError as exc:
            return 401, {"message": f"A JSON web token could not be decoded: {exc}"}
        if scheme != "Bearer" or claims["iss"] != self.app_id:
            return 401, {"message": "'Issuer' claim ('iss') must be an Integer"}
        if claims["exp"] - claims["iat"] > 600:
            return 401, {"message": "'Expiration time' claim ('exp') is too far in the future"}
        with self._lock:
            token = f"ghs_fake{len(self.issued) + 1}"
            self.issued.append(token)
            self.token_requests.append({"installation": installation, "claims": claims})
        expires = (timezone.now() + self.token_lifetime).strftime("%Y-%m-%dT%H:%M:%SZ")
        return 201, {
            "token": token,
            "expires_at": expires,
            "permissions": {"deployments": "write", "actions": "read"},
            "repository_selection": "all",
        }

    def answer_callback(self, run_id: str, authorization: str, body: dict) -> tuple[int, dict]:
        scheme, _, token = authorization.partition(" ")
        if scheme not in ("Bearer", "token") or token not in self.issued:
            return 401, {"message": "Bad credentials"}
        with self._lock:
            status = self.callback_statuses.pop(0) if self.callback_statuses else 204
            self.callbacks.append(
                {"run_id": run_id, "body": body, "status": status, "at": timezone.now()}
            )
        if status >= 300:
            return status, {"message": "Server Error"}
        return 204, {}


def serve(fake: FakeGitHub):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            authorization = self.headers.get("Authorization", "")
            if match := TOKEN.match(self.path):
                status, answer = fake.answer_token(match[1], authorization)
            elif match := CALLBACK.match(self.path):
                status, answer = fake.answer_callback(match[1], authorization, json.loads(raw))
            else:
                status, answer = 404, {"message": "Not Found"}
            data = json.dumps(answer).encode() if status != 204 else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_port}"
    return server, thread
