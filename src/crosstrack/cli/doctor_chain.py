"""`crosstrack doctor chain`: any chain of roles, hop by hop, then the final request.

Registered on the `doctor` group by :mod:`crosstrack.cli.doctor`; ``explain --policies`` uses
:func:`run_chain` too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from crosstrack.cli.errors import domain_errors

POLICIES_HELP = (
    "Read policies offline from DIR: one file per aws-cli call, named "
    "COMMAND.NAMES.json (get-role.ROLE.json, list-role-policies.ROLE.json, "
    "get-role-policy.ROLE.POLICY.json, list-attached-role-policies.ROLE.json, "
    "get-policy.POLICY.json, get-policy-version.POLICY.VERSION.json, "
    "get-bucket-policy.BUCKET.json, "
    "get-key-policy.KEY_ID.json, lambda.get-policy.FUNCTION.json, ... -- docs/doctor.md), "
    "in DIR/ACCOUNT_ID/ or DIR/."
)


def chain(
    principal: Annotated[
        str, typer.Option(help="Who starts: role/user/session ARN or a service principal.")
    ],
    via: Annotated[
        list[str] | None, typer.Option(help="A role assumed next (repeat, in order).")
    ] = None,
    action: Annotated[
        str | None, typer.Option(help="The final request's action (s3:PutObject).")
    ] = None,
    resource: Annotated[str | None, typer.Option(help="The final request's resource ARN.")] = None,
    resource_account: Annotated[
        str | None, typer.Option(help="The resource's account when its ARN has none (S3).")
    ] = None,
    policies: Annotated[Path | None, typer.Option(help=POLICIES_HELP)] = None,
    profile: Annotated[
        list[str] | None,
        typer.Option(help="ACCOUNT=PROFILE, one per account involved (live, read-only calls)."),
    ] = None,
    region: Annotated[
        str, typer.Option(help="Region of regional resources whose ARN has none.")
    ] = "us-east-1",
    external_id: Annotated[
        list[str] | None,
        typer.Option(help="ExternalId sent to every hop, or ROLE=ID for one (ROLE: ARN or name)."),
    ] = None,
    context: Annotated[
        list[str] | None,
        typer.Option(help="KEY=VALUE added to every request's context (aws:SourceArn=...)."),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option(help="KEY=VALUE session tag passed at every hop.")
    ] = None,
    session_name: Annotated[
        str, typer.Option(help="RoleSessionName of every hop.")
    ] = "crosstrack-doctor",
    duration: Annotated[int, typer.Option(help="DurationSeconds asked at every hop.")] = 3600,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
    diagram: Annotated[Path | None, typer.Option(help="Write the chain as SVG here.")] = None,
    mermaid: Annotated[bool, typer.Option("--mermaid", help="Print the chain as Mermaid.")] = False,
) -> None:
    """Check any chain: PRINCIPAL assumes each --via role in turn, then the last session calls
    --action on --resource. Rows per hop (hopN.assume, hopN.trust, hopN.duration) and for the
    final request (final.identity, final.resource: the bucket/key/queue/function/... policy).
    Policies from --policies DIR (offline) or --profile ACCOUNT=PROFILE (live)."""
    from crosstrack.doctor.chain import ChainRequest
    from crosstrack.doctor.chain_run import pairs

    with domain_errors():
        request = ChainRequest(
            principal, tuple(via or ()), action, resource, resource_account,
            pairs("--external-id", external_id or (), bare_key="*"),
            pairs("--context", context or ()), session_name, duration,
            pairs("--tag", tag or ()), region,
        )  # fmt: skip
    run_chain(request, policies, profile or [], as_json=as_json, diagram=diagram, mermaid=mermaid)


def run_chain(request: Any, policies: Path | None, profiles: list[str], *, as_json: bool,
               diagram: Path | None, mermaid: bool, title: str = "") -> None:  # fmt: skip
    from crosstrack.cli.doctor import emit  # the module that registers this command
    from crosstrack.doctor.chain import diagnose_chain
    from crosstrack.doctor.chain_run import source
    from crosstrack.doctor.render_chain import chain_mermaid, chain_svg

    with domain_errors():  # DoctorInputError: a malformed file, a bad flag (2)
        rows = diagnose_chain(request, source(policies, profiles, request.region))
    nodes = [request.principal, *request.via, *([request.resource] if request.resource else [])]
    final = request.action
    account = request.resource_account
    emit(rows, as_json=as_json, diagram=diagram, mermaid=mermaid, names={},
         title=title or f"crosstrack doctor chain: {' -> '.join(nodes)}",
         drawings=(lambda rs: chain_svg(rs, nodes, final, account),
                   lambda rs: chain_mermaid(rs, nodes, final, account)))  # fmt: skip
