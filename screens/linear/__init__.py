"""The linear channel (issue 18): a TV channel's loop stitched from its items' stored HLS segments into a live
HLS playlist, with an XMLTV guide and an M3U for IPTV set-top boxes. See docs/screens.md, 直播频道."""
