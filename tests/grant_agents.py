"""An agent that shares part of its caller's workspace with a helper, and the helper."""

from __future__ import annotations

import base64
import json
from typing import Any

from pydantic import BaseModel

from a2a_temporal import A2AAgent, RunContext, ScopedAuth, skill

FILES = {"data/a.csv": b"a,1", "data/b.txt": b"b", "private/key.txt": b"k"}


class Share(BaseModel):
    token_edit: str = "none"  # none | tamper | wrong-audience


class Owner(A2AAgent):
    """Writes files, then hands a helper read of `data/*.csv` and write under `out/`."""

    name = "owner"
    auth_model = ScopedAuth
    workspace_access = "write"

    @skill(retries=0)
    async def share(self, ctx: RunContext[ScopedAuth], args: Share) -> dict[str, Any]:
        """The helper's report on what the grant let it do."""
        for path, data in FILES.items():
            await ctx.workspace.write(path, data)
        audience = "someone-else" if args.token_edit == "wrong-audience" else "helper"
        token = ctx.workspace.delegate(
            read=["data/*.csv"], write=["out/"], ttl=60, audience=audience
        )
        if args.token_edit == "tamper":
            token = _widened_without_the_key(token)
        result = await ctx.call("helper", "work", grant=token)
        return {"status": result.status, "report": result.output, "error": result.error}


class Helper(A2AAgent):
    """Tries everything with the workspace it was handed."""

    name = "helper"
    auth_model = ScopedAuth
    workspace_access = "write"

    @skill(retries=0)
    async def work(self, ctx: RunContext[ScopedAuth]) -> dict[str, Any]:
        """What worked and what was refused."""
        try:
            workspace = ctx.workspace
        except PermissionError as exc:
            return {"workspace": str(exc)}
        report: dict[str, Any] = {}
        for path in ("data/a.csv", "data/b.txt", "private/key.txt"):
            report[f"read {path}"] = await _outcome(workspace.read(path))
        for path in ("out/result.txt", "data/a.csv"):
            report[f"write {path}"] = await _outcome(workspace.write(path, b"r"))
        report["list"] = await workspace.list()
        try:
            workspace.delegate(read=["*"], ttl=60)
            report["widen"] = "granted"
        except PermissionError as exc:
            report["widen"] = str(exc)
        return report


def _widened_without_the_key(token: str) -> str:
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    data["caveats"][0]["read"] = ["*"]
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def _outcome(action: Any) -> str:
    try:
        result = await action
    except PermissionError:
        return "refused"
    return "ok" if result is None else result.decode()


GRANT_AGENTS = [Owner(), Helper()]
