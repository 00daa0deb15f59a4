"""The pipeline's system check explains a missing ffmpeg plainly, and it is registered by the app itself."""

from django.core import checks

from media_pipeline.checks import check_media_tools


def test_missing_ffmpeg_is_reported(settings):
    """A missing ffmpeg binary is a system-check error naming the fix."""
    settings.FFMPEG_BINARY = "/nonexistent/ffmpeg"
    errors = check_media_tools(None)
    assert [e.id for e in errors] == ["lighthouse.E001"] and "apt-get install ffmpeg" in errors[0].hint


def test_the_check_runs_with_the_lighthouse_tag(settings):
    """`manage.py check --tag lighthouse` runs it: media_pipeline's AppConfig.ready registered it."""
    settings.FFMPEG_BINARY = "/nonexistent/ffmpeg"
    found = checks.run_checks(tags=["lighthouse"], include_deployment_checks=False)
    assert "lighthouse.E001" in [message.id for message in found]


def test_the_installed_ffmpeg_passes():
    """The ffmpeg we test against has every filter the pipeline needs (zscale and tonemap for HDR)."""
    assert check_media_tools(None) == []


def test_ffmpeg_without_the_hdr_filters_is_reported(settings, tmp_path):
    """An ffmpeg built without libzimg (no zscale) is named with the fix. The binary is a stand-in script: a
    build without zimg cannot be made here, and the check only reads its filter list."""
    stand_in = tmp_path / "ffmpeg"
    stand_in.write_text(
        "#!/bin/sh\n"
        'case "$*" in *-filters*) printf " T.. tonemap V->V Tone map.\\n ... scale V->V Scale.\\n";; '
        '*) echo "ffmpeg version 5.1.9";; esac\n'
    )
    stand_in.chmod(0o755)
    settings.FFMPEG_BINARY = str(stand_in)
    errors = check_media_tools(None)
    assert [e.id for e in errors] == ["lighthouse.E003"]
    assert "zscale" in errors[0].msg and "tonemap" not in errors[0].msg and "libzimg" in errors[0].hint
