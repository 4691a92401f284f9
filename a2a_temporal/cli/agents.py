"""The `agents` command: list registered agents; register or forget a remote A2A agent."""

from __future__ import annotations

import argparse
import json

from a2a_temporal._extras import require_a2a_sdk
from a2a_temporal.cli._common import CliError, client_for
from a2a_temporal.errors import InfrastructureError, OutboundRefused, RemoteError
from a2a_temporal.temporal.client import TemporalA2AClient

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `agents` command."""
    agents = commands.add_parser(
        "agents", help="list registered agents; register or forget a remote A2A agent"
    )
    agents.add_argument("action", nargs="?", choices=["list", "register", "forget"], default="list")
    agents.add_argument("target", nargs="?", help="URL to register, or name to forget")
    agents.add_argument("--name", help="name for a registered remote agent (default: its card's)")
    agents.add_argument("--tag", help="only agents with this tag")
    agents.add_argument("--skill", help="only agents with this skill")
    agents.add_argument("--json", action="store_true", help="print the cards as JSON")
    agents.set_defaults(handler=_agents)


async def _agents(args: argparse.Namespace) -> int:
    client = await client_for(args)
    if args.action == "register":
        return await _register(client, args)
    if args.action == "forget":
        if not args.target:
            raise CliError("agents forget needs the agent's name")
        removed = await client.router.registry.forget(args.target)
        if not removed:
            raise CliError(f"no agent {args.target!r} is registered")
        print(f"forgot {args.target} ({removed} entries)")
        return 0
    cards = await client.discovery.find(tag=args.tag, skill=args.skill)
    entries = {e.card.name: e for e in await client.router.registry.entries(fresh=True)}
    if args.json:
        print(json.dumps([card.model_dump(mode="json") for card in cards], indent=2))
        return 0
    for card in cards:
        entry = entries.get(card.name)
        where = (entry.remote_url if entry and entry.remote_url else None) or card.task_queue
        skills = ",".join(skill.name for skill in card.skills)
        print(f"{card.name:<20} {where or '-':<28} skills={skills} tags={','.join(card.tags)}")
    return 0


async def _register(client: TemporalA2AClient, args: argparse.Namespace) -> int:
    if not args.target or not args.target.startswith(("http://", "https://")):
        raise CliError("agents register needs the agent's URL (http:// or https://)")
    try:
        require_a2a_sdk()
    except ImportError as exc:
        raise CliError(str(exc)) from None
    from a2a_temporal.protocol.convert import our_card
    from a2a_temporal.protocol.remote import RemoteConnector

    try:
        connector = RemoteConnector(outbound=client.settings.outbound())
        async with connector.client(args.target) as (_, remote_card):
            registered = await client.router.registry.register_remote(
                args.target, our_card(remote_card, args.name)
            )
    except (RemoteError, InfrastructureError, OutboundRefused) as exc:
        raise CliError(f"cannot read the agent card at {args.target}: {exc}") from None
    print(f"registered {registered.card.name} -> {args.target}")
    return 0
