"""Use wenyuan from the openai SDK like any other model: a question, the same one streamed, then a follow-up.

    pip install openai
    python examples/openai_client.py [--url http://127.0.0.1:8000/v1] [--key TOKEN]

The key is the server's WENYUAN_API_TOKEN; any text does when the server has none.
"""

from __future__ import annotations

import argparse
import os
import sys

import openai
from openai import OpenAI


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/v1")
    parser.add_argument("--key", default=os.environ.get("WENYUAN_API_TOKEN", "none"))
    args = parser.parse_args()
    client = OpenAI(base_url=args.url, api_key=args.key, max_retries=0)
    try:
        run(client)
    except openai.APIStatusError as exc:
        sys.exit(f"error: {exc.status_code} {exc.message}")
    except openai.APIConnectionError as exc:
        sys.exit(f"error: cannot reach {args.url}: {exc}")


def run(client: OpenAI) -> None:
    print("models:", [m.id for m in client.models.list()])

    question = "截至3月1日庆元县健康码申领率是多少"
    reply = client.chat.completions.create(model="wenyuan", messages=[{"role": "user", "content": question}])
    message = reply.choices[0].message
    print(f"\n问：{question}\n答：{message.content}")
    # Fields beyond OpenAI's are kept by the SDK: message.citations, .abstained, .question, .generated, .unsupported
    for n, c in enumerate(message.citations, start=1):
        print(f"  [{n}] {c['doc']} 字符 {c['start']}–{c['end']}")

    print(f"\n问（流式）：{question}\n答：", end="")
    for chunk in client.chat.completions.create(
        model="wenyuan", messages=[{"role": "user", "content": question}], stream=True
    ):
        delta = chunk.choices[0].delta
        print(delta.content or "", end="", flush=True)
        if chunk.choices[0].finish_reason == "stop":
            print(f"\n  （最后一块带引用：{len(delta.citations)} 条）")

    history = [{"role": "user", "content": "遂昌有多少家企业开工复工？"}]
    first = client.chat.completions.create(model="wenyuan", messages=history).choices[0].message
    history += [{"role": "assistant", "content": first.content}, {"role": "user", "content": "平湖呢？"}]
    follow = client.chat.completions.create(model="wenyuan", messages=history).choices[0].message
    print(
        f"\n问：遂昌有多少家企业开工复工？ → 平湖呢？（检索的问题：{follow.question}）\n答：{follow.content}"
    )


if __name__ == "__main__":
    main()
