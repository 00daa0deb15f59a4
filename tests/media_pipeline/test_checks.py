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
