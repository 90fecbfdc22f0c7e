import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kit_app.cli import main
from tests.helpers.data import SOURCE_HEADER_ZH, code, write_csv


def run(capsys: pytest.CaptureFixture[str], *args: str, stdin: str | None = None,
        monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_officer_add_and_list(capsys, monkeypatch, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    rc, out, err = run(capsys, "--data-dir", str(data_dir), "officer", "add", "--name", "管理员", "--cert",
                       "A1", "--role", "admin", "--agency", "450000", "--password-stdin", "--json",
                       stdin="long-password\n", monkeypatch=monkeypatch)
    assert rc == 0, err
    oid = json.loads(out)["id"]
    rc, out, _ = run(capsys, "--data-dir", str(data_dir), "officer", "list", "--json")
    officers = json.loads(out)
    assert officers[0]["id"] == oid and officers[0]["roles"] == ["admin"]
    assert "password" not in out


def test_officer_add_refuses_non_admin_actor(capsys, monkeypatch, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    run(capsys, "--data-dir", str(data_dir), "officer", "add", "--name", "李", "--cert", "L1",
        "--role", "officer", "--password-stdin", stdin="long-password\n", monkeypatch=monkeypatch)
    rc, out, err = run(capsys, "--data-dir", str(data_dir), "officer", "add", "--name", "x", "--cert", "X",
                       "--role", "admin", "--password-stdin", "--officer", "L1", "--json",
                       stdin="long-password\n", monkeypatch=monkeypatch)
    assert rc == 1 and "may not manage officers" in json.loads(out)["error"]


def test_import_exit_codes_and_json(capsys, data_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = write_csv(tmp_path / "g.csv", SOURCE_HEADER_ZH, [["甲公司", code("450103", 1), "", "", "", "", "", ""]])
    rc, out, _ = run(capsys, "--data-dir", str(data_dir), "import-sources", str(good), "--json")
    assert rc == 0 and json.loads(out) == {"imported": 1, "updated": 0, "unchanged": 0, "rejected": [],
                                           "encoding": "utf-8"}
    bad = write_csv(tmp_path / "b.csv", SOURCE_HEADER_ZH, [["", code("450103", 2), "", "", "", "", "", ""],
                                                           ["乙公司", code("450103", 3), "", "", "", "", "", ""]])
    rc, out, _ = run(capsys, "--data-dir", str(data_dir), "import-sources", str(bad), "--json")
    res = json.loads(out)
    assert rc == 3 and res["imported"] == 1
    assert res["rejected"] == [{"row": 2, "column": "单位名称", "reason": "name is missing"}]


def test_missing_file_is_failure_without_traceback(capsys, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    rc, out, err = run(capsys, "--data-dir", str(data_dir), "import-sources", "/nonexistent.csv")
    assert rc == 1 and "File not found" in err and "Traceback" not in err


def test_usage_error_exit_2(capsys, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as e:
        main(["--data-dir", str(data_dir), "case", "new", "--title", "t"])
    assert e.value.code == 2
    rc, _, err = run(capsys, "--data-dir", str(data_dir), "case", "show", "no-such-case")
    assert rc == 1 and "No case" in err


def test_case_new_and_show(capsys, data_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = write_csv(tmp_path / "g.csv", SOURCE_HEADER_ZH, [["南宁市甲化工有限公司", code("450103", 1), "", "青秀区", "", "", "", ""]])
    run(capsys, "--data-dir", str(data_dir), "import-sources", str(f))
    rc, out, _ = run(capsys, "--data-dir", str(data_dir), "case", "new", "--party", "南宁市甲化工有限公司",
                     "--title", "涉嫌未批先建", "--json")
    assert rc == 0
    cid = json.loads(out)["id"]
    rc, out, _ = run(capsys, "--data-dir", str(data_dir), "case", "show", cid, "--json")
    case = json.loads(out)
    assert case["id"] == cid and case["title"] == "涉嫌未批先建"
    assert case["party"]["name"] == "南宁市甲化工有限公司" and case["party"]["listed"] is True
    assert case["opened_at"].endswith("+00:00")
    assert case["procedure"]["state"] == "filing" and [e["action"] for e in case["procedure"]["history"]] == ["open"]
    assert [d["id"] for d in case["procedure"]["deadlines"]] == ["filing"]


def test_search_json(capsys, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    run(capsys, "--data-dir", str(data_dir), "demo-data", "--sources", "300", "--projects", "20", "--seed", "3")
    rc, out, _ = run(capsys, "--data-dir", str(data_dir), "search", "有限公司", "--limit", "5", "--json")
    hits = json.loads(out)
    assert rc == 0 and len(hits) == 5
    assert set(hits[0]) >= {"id", "name", "credit_code", "county", "rank"}


def test_chinese_messages_by_default(capsys, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from kit_app import i18n

    i18n.set_language(None)
    assert i18n.language() == "zh_CN"
    rc, _, err = run(capsys, "--data-dir", str(data_dir), "import-sources", "/nonexistent.csv")
    assert rc == 1 and "找不到文件" in err


def test_real_entry_point_subprocess(tmp_path: Path) -> None:
    """The installed console script, as an administrator would run it."""
    exe = Path(sys.executable).with_name("kit-app")
    env = dict(os.environ, KIT_DATA_DIR=str(tmp_path / "d"), KIT_LANG="en")
    p = subprocess.run([str(exe), "status", "--json"], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    st = json.loads(p.stdout)
    assert st["schema_revision"] and st["sources"] == 0 and st["data_dir"] == str(tmp_path / "d")
    p = subprocess.run([str(exe), "no-such-command"], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 2
