"""The generated CA, server certificate and AWS profile files."""

from __future__ import annotations

import configparser
import socket
import ssl
import stat
import threading
from pathlib import Path

from crosstrack.local.setup import profiles, tls
from crosstrack.local.setup.bootstrap import OperatorCredentials


def test_server_certificate_verifies_against_the_ca_for_127_0_0_1(tmp_path: Path) -> None:
    files = tls.generate(tmp_path)
    assert stat.S_IMODE(files.server_key.stat().st_mode) == 0o600
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(files.server_cert, files.server_key)
    client_ctx = ssl.create_default_context(cafile=str(files.ca_cert))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            with server_ctx.wrap_socket(conn, server_side=True) as tls_conn:
                tls_conn.recv(1)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        # Hostname checking on: the certificate must name 127.0.0.1.
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            client_ctx.wrap_socket(raw, server_hostname="127.0.0.1") as conn,
        ):
            conn.sendall(b"x")
        thread.join(timeout=5)


def test_profiles_account_b_assumes_the_terraform_role_from_account_a(tmp_path: Path) -> None:
    written = profiles.write(
        tmp_path,
        endpoint="https://127.0.0.1:4443",
        ca_bundle=tmp_path / "ca.pem",
        operator=OperatorCredentials("AKIAEXAMPLE000000001", "s3cret"),
        terraform_role_arn="arn:aws:iam::222222222222:role/terraform",
        session_name="operator-abcd1234",
    )
    config = configparser.ConfigParser()
    config.read(written.config_file)
    b = config["profile account-b"]
    assert b["role_arn"] == "arn:aws:iam::222222222222:role/terraform"
    assert b["source_profile"] == "account-a"
    assert "addressing_style = path" in config["default"]["s3"]
    credentials = configparser.ConfigParser()
    credentials.read(written.credentials_file)
    assert credentials["account-a"]["aws_access_key_id"] == "AKIAEXAMPLE000000001"
    assert "account-b" not in credentials  # B has no keys: only the role
    assert stat.S_IMODE(written.credentials_file.stat().st_mode) == 0o600


def test_export_lines_are_in_design_md_order(tmp_path: Path) -> None:
    variables = profiles.env(
        endpoint="https://127.0.0.1:4443",
        ca_bundle=tmp_path / "ca.pem",
        operator=OperatorCredentials("AKIAEXAMPLE000000001", "s3cret"),
        profiles=profiles.Profiles(tmp_path / "config", tmp_path / "credentials"),
    )
    assert profiles.export_lines(variables) == [
        "export AWS_ENDPOINT_URL=https://127.0.0.1:4443",
        f"export AWS_CA_BUNDLE={tmp_path}/ca.pem",
        "export AWS_ACCESS_KEY_ID=AKIAEXAMPLE000000001",
        "export AWS_SECRET_ACCESS_KEY=s3cret",
        "export AWS_DEFAULT_REGION=us-east-1",
        f"export AWS_CONFIG_FILE={tmp_path}/config",
        f"export AWS_SHARED_CREDENTIALS_FILE={tmp_path}/credentials",
    ]
