"""The linear channels' guide and list for IPTV set-top boxes (pure): an XMLTV document (xmltv.dtd: every
``<channel>`` first, then every ``<programme>``; times as ``YYYYMMDDhhmmss +0800``) and an extended M3U naming
each channel's live master with ``tvg-id``/``tvg-name``/``group-title`` and the guide in ``x-tvg-url``."""

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from ..models import SCHEDULE_TIME_ZONE

XMLTV_DOCTYPE = '<!DOCTYPE tv SYSTEM "xmltv.dtd">'
LANGUAGE = "zh"


@dataclass(frozen=True)
class GuideChannel:
    tvg_id: str
    name: str
    group: str  # the owning unit's name
    master_url: str
    airings: list[tuple[str, datetime, datetime]]  # (title, start, stop)


def xmltv_time(moment: datetime) -> str:
    return moment.astimezone(SCHEDULE_TIME_ZONE).strftime("%Y%m%d%H%M%S %z")


def xmltv(channels: list[GuideChannel], *, generator: str) -> bytes:
    tv = etree.Element("tv", {"generator-info-name": generator})
    for channel in channels:
        element = etree.SubElement(tv, "channel", id=channel.tvg_id)
        etree.SubElement(element, "display-name", lang=LANGUAGE).text = channel.name
    for channel in channels:
        for title, start, stop in channel.airings:
            programme = etree.SubElement(
                tv, "programme", start=xmltv_time(start), stop=xmltv_time(stop), channel=channel.tvg_id
            )
            etree.SubElement(programme, "title", lang=LANGUAGE).text = title
    return etree.tostring(tv, xml_declaration=True, encoding="UTF-8", doctype=XMLTV_DOCTYPE, pretty_print=True)


def _attribute(value: str) -> str:
    # M3U attributes are double-quoted with no escape: a quote or line break in a name would end them.
    return value.replace('"', "'").replace("\n", " ").replace("\r", " ")


def m3u(channels: list[GuideChannel], *, guide_url: str) -> str:
    lines = [f'#EXTM3U x-tvg-url="{_attribute(guide_url)}"']
    for channel in channels:
        name = _attribute(channel.name)
        lines.append(
            f'#EXTINF:-1 tvg-id="{_attribute(channel.tvg_id)}" tvg-name="{name}" '
            f'group-title="{_attribute(channel.group)}",{name.replace(",", "，")}'
        )
        lines.append(channel.master_url)
    return "\n".join(lines) + "\n"
