"""Ask a list of questions through the HTTP API and print answers with their citations.

    python examples/ask_api.py [--url http://127.0.0.1:8000] [QUESTION ...]

Standard library only, so it runs from any Python 3 without installing wenyuan.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request

QUESTIONS = [
    "截至3月1日庆元县健康码申领率是多少",
    "遂昌有多少家企业开工复工？",
    "平湖浙江卫星能源有限公司有多少名员工在岗",
    "红烧肉怎么做才好吃",
]


def ask(url: str, question: str) -> dict:
    body = json.dumps({"messages": [{"role": "user", "content": question}], "k": 5}).encode("utf-8")
    request = urllib.request.Request(
        f"{url}/api/chat", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"error: {json.load(exc)['error']['message']}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("questions", nargs="*", default=QUESTIONS)
    args = parser.parse_args()
    for question in args.questions:
        reply = ask(args.url.rstrip("/"), question)
        print(f"问：{question}")
        print(f"答：{reply['answer']}")
        for n, c in enumerate(reply["citations"], start=1):
            print(
                f"  [{n}] 《{c['title']}》 {c['doc']} 第{c['paragraph']}段 第{c['line_start']}–{c['line_end']}行"
            )
        print()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
