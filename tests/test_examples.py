"""The API script docs/http-api.md points to runs against the real server, so it cannot rot."""

import subprocess
import sys

from tests.conftest import ROOT


def test_ask_api_script(server_url):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "ask_api.py"), "--url", server_url],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "64.24%" in proc.stdout
    assert "[1] 《庆元“健康码”申领率 全市第一》 000_03be0d9acd7aceea.txt" in proc.stdout
    assert "资料中没有找到相关内容" in proc.stdout


def test_ask_api_script_reports_server_errors(server_url):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "ask_api.py"), "--url", server_url, "问" * 501],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and proc.stderr.startswith("error: the question is 501 characters long"), (
        proc.stderr
    )
