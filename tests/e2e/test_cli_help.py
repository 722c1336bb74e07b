from typer.testing import CliRunner

from lealta.cli.main import app


def test_the_root_command_prints_its_help() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "segmentation" in result.output


def test_version_is_printed() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("lealta ")
