"""The `estate` command: help, the register and map commands, and clean failures."""

from __future__ import annotations

import pytest

from estate.cli import cli, main


@pytest.mark.parametrize("args", [[], ["register"], ["map"], ["map", "register"], ["access"], ["solve"]])
def test_every_command_has_help(args, capsys):
    assert main([*args, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: estate" in out and "--help" in out


def test_register_then_map(mini_sources, tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert main(["register", "--sources", str(mini_sources), "--out", str(out_dir)]) == 0
    printed = capsys.readouterr().out
    assert "Rows read 10 = assets 9 + merged 1 + rejected 0" in printed
    assert "ALPHA" in printed and "TOTAL" in printed
    for name in ("register.gpkg", "rejects.csv", "warnings.csv", "merges.csv"):
        assert (out_dir / name).is_file()

    html = tmp_path / "maps" / "register.html"
    assert main(["map", "register", "--register", str(out_dir / "register.gpkg"), "--out", str(html)]) == 0
    assert html.is_file() and "9 markers" in capsys.readouterr().out


def test_bad_sources_exit_2_with_a_message_and_write_nothing(mini_sources, tmp_path, capsys):
    (mini_sources.parent / "charlie.xlsx").write_bytes(b"not a workbook")
    out_dir = tmp_path / "out"
    assert main(["register", "--sources", str(mini_sources), "--out", str(out_dir)]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "charlie.xlsx" in err and "Traceback" not in err
    assert not out_dir.exists()


def test_missing_register_for_map_is_a_clear_error(tmp_path, capsys):
    assert main(["map", "register", "--register", str(tmp_path / "none.gpkg"),
                 "--out", str(tmp_path / "m.html")]) == 2
    assert "run `estate register` first" in capsys.readouterr().err
    assert not (tmp_path / "m.html").exists()


def test_missing_sources_file_says_what_to_do(tmp_path, capsys):
    assert main(["register", "--sources", str(tmp_path / "none.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "pass --sources FILE" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_unknown_option_is_a_usage_error(capsys):
    assert main(["register", "--nope"]) == 2
    assert "No such option" in capsys.readouterr().err


def test_cli_group_lists_commands():
    assert {"register", "map", "access", "solve"} <= set(cli.commands)


def test_access_on_the_built_in_scenario(tmp_path, capsys):
    import pandas as pd

    from conftest import REPO

    out = tmp_path / "run"
    assert main(["access", str(REPO / "models/cheshire-warrington.toml"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Demand: 602 zones, population 966,900" in printed
    assert "Today's access by service" in printed and "Jobcentre and employment support" in printed
    access = pd.read_parquet(out / "access.parquet")
    assert list(access.columns) == ["zone_id", "site_id", "mode", "minutes"]
    assert set(access["mode"].astype(str)) == {"walk", "cycle", "car", "public_transport"}
    assert access["minutes"].max() <= 60.0
    summary = pd.read_csv(out / "access_summary.csv").set_index("service")
    assert "back_office" not in summary.index  # no standard
    assert 0.0 < summary.loc["employment", "share_within"] <= 1.0


def test_access_with_a_bad_scenario_exits_2(tmp_path, capsys):
    from conftest import REPO

    text = (REPO / "models/cheshire-warrington.toml").read_text().replace('mode = "car", rule', 'mode = "tram", rule')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    assert main(["access", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "'tram' has no speed" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
