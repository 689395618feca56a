"""``LocalAWS``: the embedded two-account AWS, started and stopped as one object."""

from __future__ import annotations

import secrets
import shutil
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from crosstrack.local.accounts import ACCOUNT_A, ACCOUNT_B
from crosstrack.local.auth.audit import AuditLog
from crosstrack.local.auth.decisions import Decider, Engine, load_engine
from crosstrack.local.errors import LocalAWSError, MissingDependencyError
from crosstrack.local.moto import seams
from crosstrack.local.services.service_access import ServiceAccess
from crosstrack.local.setup import bootstrap, profiles
from crosstrack.local.setup.bootstrap import OperatorCredentials
from crosstrack.local.transport.listener import Listener, listen, port_is_free
from crosstrack.local.transport.server import KeyLocks, RecordingApp, RequestCounter

_STATE_DIRS = ("tls", "aws")


def _require_dependencies() -> None:
    missing = []
    for module in ("moto", "werkzeug", "flask", "cryptography", "cheroot"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise MissingDependencyError(
            f"the local AWS needs {', '.join(missing)}; install crosstrack with its "
            "'local' extra: pip install 'crosstrack[local]'"
        )


class LocalAWS:
    """Accounts A and B on 127.0.0.1 over HTTPS, with every request decided by crosstrack.iam.

    One per process (moto's state is global). Use as a context manager or call
    :meth:`start` / :meth:`stop`. All state lives under ``workdir``.
    """

    account_a = ACCOUNT_A
    account_b = ACCOUNT_B

    def __init__(
        self,
        workdir: Path,
        *,
        port: int = 0,
        http_port: int | None = None,
        bootstrap_dir: Path | None = None,
        engine: Engine | None = None,
    ) -> None:
        self.workdir = Path(workdir).resolve()
        self._port = port
        self._http_port = http_port
        self._bootstrap_dir = bootstrap_dir or bootstrap.default_directory()
        self._engine = engine
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._decider: Decider | None = None
        self._counter = RequestCounter()
        self._locks = KeyLocks()
        self._started = False
        self.audit_log = self.workdir / "audit.jsonl"
        self.ca_bundle = self.workdir / "tls" / "ca.pem"
        self.config_file = self.workdir / "aws" / "config"
        self.credentials_file = self.workdir / "aws" / "credentials"
        self.endpoint = ""
        self.http_endpoint = ""
        self.operator = OperatorCredentials("", "")
        self.operator_arn = ""
        self.terraform_role_arn = ""
        # Used by profile account-b; unique per start (see profiles.write).
        self.terraform_session_name = f"operator-{secrets.token_hex(4)}"

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalAWS:
        with self._lock:
            if self._started:
                return self
            _require_dependencies()
            for port in (self._port, self._http_port):
                if port and not port_is_free(port):
                    raise LocalAWSError(
                        f"port {port} on 127.0.0.1 is already in use; choose another "
                        "(--port N, or 0 for any free port)"
                    )
            engine = self._engine or load_engine()
            # The work directory holds the operator's secret and the audit log: owner only.
            self.workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.workdir.chmod(0o700)
            for name in _STATE_DIRS:
                shutil.rmtree(self.workdir / name, ignore_errors=True)
            self.audit_log.unlink(missing_ok=True)
            self._decider = Decider(AuditLog(self.audit_log), engine=engine)
            from crosstrack.local.auth.enforcer import Enforcer
            from crosstrack.local.setup.tls import generate

            enforcer = Enforcer(self._decider)

            def enforce(response: Any, is_s3: bool, moto_resource: str) -> None:
                enforcer.enforce_moto_request(response, is_s3=is_s3, moto_resource=moto_resource)

            seams.install(enforce)
            try:
                seams.reset_state()
                tls = generate(self.workdir / "tls")
                self.ca_bundle = tls.ca_cert
                boot = bootstrap.run(self._bootstrap_dir)
                self.operator = boot.operator
                self.operator_arn = boot.operator_arn
                self.terraform_role_arn = boot.terraform_role_arn
                from crosstrack.local.moto.app import wsgi_app

                moto_app = wsgi_app()
                https = listen(
                    RecordingApp(moto_app, secure=True, counter=self._counter, locks=self._locks),
                    self._port,
                    tls=tls,
                    name="https",
                )
                self._listeners.append(https)
                http = listen(
                    RecordingApp(moto_app, secure=False, counter=self._counter, locks=self._locks),
                    self._http_port or 0,
                    tls=None,
                    name="http",
                )
                self._listeners.append(http)
                self.endpoint = f"https://127.0.0.1:{https.port}"
                self.http_endpoint = f"http://127.0.0.1:{http.port}"
                written = profiles.write(
                    self.workdir / "aws",
                    endpoint=self.endpoint,
                    ca_bundle=self.ca_bundle,
                    operator=self.operator,
                    terraform_role_arn=self.terraform_role_arn,
                    session_name=self.terraform_session_name,
                )
                self.config_file = written.config_file
                self.credentials_file = written.credentials_file
            except BaseException:
                self._teardown()
                raise
            self._started = True
            return self

    def _teardown(self) -> None:
        for listener in reversed(self._listeners):
            listener.stop()
        self._listeners.clear()
        if seams.installed():
            seams.uninstall()
            seams.reset_state()

    def stop(self) -> None:
        with self._lock:
            if not self._started:
                return
            self._teardown()
            self._started = False

    def __enter__(self) -> LocalAWS:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._started

    @property
    def requests_served(self) -> int:
        """Requests that reached moto since start (each leaves at least one audit line)."""
        return self._counter.value

    # ------------------------------------------------------------------- clients
    def env(self) -> dict[str, str]:
        """Exactly the variables of design.md's export lines, in that order."""
        self._require_started()
        return profiles.env(
            endpoint=self.endpoint,
            ca_bundle=self.ca_bundle,
            operator=self.operator,
            profiles=profiles.Profiles(self.config_file, self.credentials_file),
        )

    def export_lines(self) -> list[str]:
        """``export NAME=value`` for each variable of :meth:`env`, in order."""
        return profiles.export_lines(self.env())

    # ----------------------------------------------------------- service callers
    @property
    def services(self) -> ServiceAccess:
        """The emulator's own components acting as AWS services, decided and audited like
        any request: ``services.assume_role(...)`` (a role's trust checked, e.g. for
        ``lambda.amazonaws.com``) and ``services.authorize(...)``."""
        return ServiceAccess(self._require_started())

    def _require_started(self) -> Decider:
        if not self._started or self._decider is None:
            raise LocalAWSError("the local AWS is not running; call start() first")
        return self._decider
