"""Talks to an A2A agent through Palisade with the official a2a-sdk client and
prints what it saw as one JSON object, for the Rust end-to-end tests to assert on.

usage: a2a_probe.py BASE_URL --bearer TOKEN --task TEXT [--stream] [--context ID] [--get-task]
  BASE_URL      the agent's A2A base URL; its card is BASE_URL/.well-known/agent-card.json
                and the JSON-RPC endpoint is whatever JSONRPC interface the card lists
  --bearer      send Authorization: Bearer TOKEN on every request, card fetch included
  --task        the text of the user message to send
  --stream      send with SendStreamingMessage (the card must declare streaming)
                instead of SendMessage, and report the kinds of the streamed events
  --context     continue this context id
  --get-task    afterwards fetch the resulting task with GetTask

Output: {"card": {"name", "skills": [ids]}, "answer", "task_id", "context_id",
"state", "events" (with --stream), "task": {"state", "history": [texts]} (with
--get-task)}. "answer" is the text of the task's artifacts, or, when there is
none, of the last agent message; "state" is a TaskState name such as
"TASK_STATE_COMPLETED" (null when the agent answered with a plain message).
On any failure: {"error": message} and exit status 1.
"""

import argparse
import asyncio
import json
import sys
import uuid

import httpx
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types import GetTaskRequest, Message, Part, Role, SendMessageRequest, TaskState

TIMEOUT = 120


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Probe an A2A agent with the official a2a-sdk client.")
    parser.add_argument("base_url")
    parser.add_argument("--bearer", required=True)
    parser.add_argument("--task", required=True, help="text of the user message")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--context", help="context id to continue")
    parser.add_argument("--get-task", action="store_true")
    return parser.parse_args()


def text_of(parts) -> str:
    return "".join(p.text for p in parts if p.HasField("text"))


class Outcome:
    """What the events of one send say about the answer, folded in order."""

    def __init__(self) -> None:
        self.task_id = None
        self.context_id = None
        self.state = None
        self.artifacts: dict[str, str] = {}
        self.message = ""
        self.events: list[str] = []

    def fold(self, response) -> None:
        kind = response.WhichOneof("payload")
        if kind is None:
            raise RuntimeError("a result that is none of task, message, statusUpdate, artifactUpdate")
        self.events.append(kind.replace("_", "-"))
        event = getattr(response, kind)
        self.task_id = (event.id if kind == "task" else event.task_id) or self.task_id
        self.context_id = event.context_id or self.context_id
        if kind == "message":
            self.message = text_of(event.parts)
        elif kind == "task":
            self.artifacts = {a.artifact_id: text_of(a.parts) for a in event.artifacts}
            agent = [m for m in event.history if m.role == Role.ROLE_AGENT]
            if agent:
                self.message = text_of(agent[-1].parts)
        if kind in ("task", "status_update"):
            self.state = TaskState.Name(event.status.state)
            if event.status.HasField("message"):
                self.message = text_of(event.status.message.parts)
        elif kind == "artifact_update":
            artifact = event.artifact
            before = self.artifacts.get(artifact.artifact_id, "") if event.append else ""
            self.artifacts[artifact.artifact_id] = before + text_of(artifact.parts)

    def answer(self) -> str:
        return "".join(self.artifacts.values()) or self.message


async def probe(opts: argparse.Namespace) -> dict:
    headers = {"Authorization": f"Bearer {opts.bearer}"}
    async with httpx.AsyncClient(headers=headers, timeout=TIMEOUT) as http:
        card = await A2ACardResolver(http, opts.base_url).get_agent_card()
        if opts.stream and not card.capabilities.streaming:
            raise RuntimeError("--stream: the agent card does not declare capabilities.streaming")
        config = ClientConfig(httpx_client=http, streaming=opts.stream)
        async with ClientFactory(config).create(card) as client:
            message = Message(
                role=Role.ROLE_USER,
                message_id=str(uuid.uuid4()),
                context_id=opts.context or "",
                parts=[Part(text=opts.task)],
            )
            outcome = Outcome()
            async for response in client.send_message(SendMessageRequest(message=message)):
                outcome.fold(response)
            out = {
                "card": {"name": card.name, "skills": [s.id for s in card.skills]},
                "answer": outcome.answer(),
                "task_id": outcome.task_id,
                "context_id": outcome.context_id,
                "state": outcome.state,
            }
            if opts.stream:
                out["events"] = outcome.events
            if opts.get_task:
                if not outcome.task_id:
                    raise RuntimeError("--get-task: the agent answered with no task id")
                task = await client.get_task(GetTaskRequest(id=outcome.task_id))
                out["task"] = {
                    "state": TaskState.Name(task.status.state),
                    "history": [text_of(m.parts) for m in task.history],
                }
            return out


def describe(error: BaseException) -> str:
    """The SDK's message, with the HTTP response body behind it when there is one."""
    text = f"{type(error).__name__}: {error}"
    data = getattr(error, "data", None)
    if data:
        text += f" {json.dumps(data)}"
    cause = error
    while cause is not None:
        if isinstance(cause, httpx.HTTPStatusError):
            text += f" (HTTP {cause.response.status_code} body: {cause.response.text})"
            break
        cause = cause.__cause__
    return text


def main() -> None:
    opts = parse_args()
    try:
        out = asyncio.run(asyncio.wait_for(probe(opts), TIMEOUT))
    except Exception as e:  # SDK errors (A2AError and subclasses), HTTP errors, timeouts
        json.dump({"error": describe(e)}, sys.stdout)
        sys.exit(1)
    json.dump(out, sys.stdout)


main()
