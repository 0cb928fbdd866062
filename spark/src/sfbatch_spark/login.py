"""The driver's one login: `sfbatch token` logs in and prints the session on a pipe.

Python makes no Salesforce call itself. The credentials go to the child through its
environment (never argv); the session comes back on its standard output.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any, Mapping

from .options import Credentials

#: How long the driver waits for `sfbatch token`.
LOGIN_TIMEOUT_SECONDS = 180

#: Environment variables sfbatch reads for credentials; they are removed from what a child
#: inherits so that only the write's own options count.
CREDENTIAL_ENV = (
    "SF_INSTANCE_URL", "SF_ACCESS_TOKEN", "SF_USERNAME", "SF_PASSWORD", "SF_SECURITY_TOKEN",
    "SF_CLIENT_ID", "SF_CLIENT_SECRET", "SF_REFRESH_TOKEN", "SF_JWT_KEY_FILE", "SF_LOGIN_URL",
    "SFDX_AUTH_URL", "SF_AUTH_URL", "SF_CA_CERT_FILE", "SF_API_VERSION", "SFBATCH_PROFILE",
    "SF_TARGET_ORG", "SFBATCH_PIPE_TEST_KILL_AFTER_SENT",
)

#: The login flows that can renew a session without the user.
REFRESHABLE_FLOWS = ("jwt", "client_credentials", "refresh_token")


class LoginError(RuntimeError):
    """The driver could not log in. ``status`` is sfbatch's exit code (4 auth, 5 unreachable)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Session:
    """A logged-in session and what tasks need to renew it. Its repr shows no secret."""

    flow: str
    instance_url: str
    handshake: Mapping[str, str] = field(repr=False)

    @property
    def refreshable(self) -> bool:
        """Whether tasks can renew the session themselves."""
        return self.flow in REFRESHABLE_FLOWS

    def handshake_line(self) -> bytes:
        """The first line of `sfbatch pipe --handshake`'s standard input."""
        return json.dumps(dict(self.handshake), separators=(",", ":")).encode() + b"\n"


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of an sfbatch child: the process's own minus credentials, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_ENV}
    env.update(extra or {})
    return env


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def login(binary: str, creds: Credentials, api_version: str = "") -> Session:
    """Log in once on the driver through `sfbatch token` and return the session."""
    env: dict[str, str] = {"SF_LOGIN_URL": creds.login_url}
    for var, value in (
        ("SF_USERNAME", creds.username),
        ("SF_PASSWORD", creds.password),
        ("SF_SECURITY_TOKEN", creds.security_token),
        ("SF_ACCESS_TOKEN", creds.access_token),
        ("SF_INSTANCE_URL", creds.instance_url if creds.access_token else ""),
        ("SF_REFRESH_TOKEN", creds.refresh_token),
        ("SF_CLIENT_ID", creds.client_id),
        ("SF_CLIENT_SECRET", creds.client_secret),
        ("SF_JWT_KEY_FILE", creds.jwt_key_file),
        ("SF_CA_CERT_FILE", creds.ca_cert_file),
        ("SF_API_VERSION", api_version),
    ):
        if value:
            env[var] = value
    with tempfile.TemporaryDirectory(prefix="sfbatch-login-") as tmp:
        # A config path that does not exist: no saved profile takes part in this login.
        env["SFBATCH_CONFIG"] = os.path.join(tmp, "none.json")
        try:
            proc = subprocess.run(
                [binary, "token"], env=child_env(env), stdin=subprocess.DEVNULL,
                capture_output=True, timeout=LOGIN_TIMEOUT_SECONDS, check=False,
            )
        except subprocess.TimeoutExpired:
            raise LoginError(5, f"login did not answer within {LOGIN_TIMEOUT_SECONDS} s") from None
    try:
        out: dict[str, Any] = json.loads(proc.stdout.decode("utf-8", "replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise LoginError(proc.returncode or 1, f"sfbatch token exited {proc.returncode} without an answer") from None
    if proc.returncode != 0 or out.get("status") != 0:
        raise LoginError(int(out.get("status") or proc.returncode or 1), f"login failed: {out.get('message', '')}")
    res = out["result"]
    flow = creds.flow()
    hs: dict[str, str] = {"accessToken": res["accessToken"], "instanceUrl": res["instanceUrl"]}
    if flow in REFRESHABLE_FLOWS:
        hs["loginUrl"] = creds.login_url
        for key, value in (
            ("refreshToken", creds.refresh_token),
            ("clientId", creds.client_id),
            ("clientSecret", creds.client_secret),
            ("username", creds.username),
            ("jwtKey", _read(creds.jwt_key_file) if creds.jwt_key_file else ""),
        ):
            if value:
                hs[key] = value
    if creds.ca_cert_file:
        hs["caCert"] = _read(creds.ca_cert_file)
    return Session(flow=flow, instance_url=res["instanceUrl"], handshake=hs)
