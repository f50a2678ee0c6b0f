"""Calls an LLM route through Palisade with the official SDKs and prints the
answer text as JSON, for the Rust end-to-end tests.

usage: llm_probe.py anthropic|openai|openai-responses BASE_URL MODE PROMPT
  MODE: create | stream
The API key given to the SDK is a client credential Palisade must strip.
"""

import json
import sys

kind, base_url, mode, prompt = sys.argv[1:5]
CLIENT_KEY = "client-credential-must-not-pass"

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
json.dump({"text": text}, sys.stdout)
