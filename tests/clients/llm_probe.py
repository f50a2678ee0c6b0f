"""Calls an LLM route through Palisade with the official SDKs and prints the
answer as JSON, for the Rust end-to-end tests: {"text": ..., "usage_chunks": N}
(N: usage-only chunks an OpenAI chat stream delivered), or, when the SDK
raises an API error, {"error": {"status": ..., "retry_after": ..., "body": ...}}.

usage: llm_probe.py anthropic|openai|openai-responses BASE_URL MODE PROMPT
  MODE: create | stream
The API key given to the SDK is a client credential Palisade must strip.
"""

import json
import sys

kind, base_url, mode, prompt = sys.argv[1:5]
CLIENT_KEY = "client-credential-must-not-pass"

usage_chunks = 0


def call():
    global usage_chunks
    if kind == "anthropic":
        import anthropic

        client = anthropic.Anthropic(base_url=base_url, api_key=CLIENT_KEY, max_retries=0)
        args = dict(model="claude-sonnet-4-20250514", max_tokens=64, messages=[{"role": "user", "content": prompt}])
        if mode == "create":
            msg = client.messages.create(**args)
            text = "".join(b.text for b in msg.content if b.type == "text")
        else:
            with client.messages.stream(**args) as stream:
                text = "".join(stream.text_stream)
    elif kind == "openai-responses":
        import openai

        client = openai.OpenAI(base_url=base_url, api_key=CLIENT_KEY, max_retries=0)
        if mode == "create":
            text = client.responses.create(model="gpt-4o-mini", input=prompt).output_text
        else:
            text = ""
            for event in client.responses.create(model="gpt-4o-mini", input=prompt, stream=True):
                if event.type == "response.output_text.delta":
                    text += event.delta
    else:
        import openai

        client = openai.OpenAI(base_url=base_url, api_key=CLIENT_KEY, max_retries=0)
        args = dict(model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}])
        if mode == "create":
            out = client.chat.completions.create(**args)
            text = out.choices[0].message.content
        else:
            text = ""
            for chunk in client.chat.completions.create(stream=True, **args):
                if chunk.choices and chunk.choices[0].delta.content:
                    text += chunk.choices[0].delta.content
                if not chunk.choices and chunk.usage is not None:
                    usage_chunks += 1
    return text


def api_error(e):
    response = getattr(e, "response", None)
    return {
        "status": getattr(e, "status_code", None),
        "retry_after": response.headers.get("retry-after") if response is not None else None,
        "body": getattr(e, "body", None),
    }


try:
    text = call()
except Exception as e:  # the SDKs' APIStatusError subclasses
    if getattr(e, "status_code", None) is None:
        raise
    json.dump({"error": api_error(e)}, sys.stdout)
    sys.exit(0)
json.dump({"text": text, "usage_chunks": usage_chunks}, sys.stdout)
