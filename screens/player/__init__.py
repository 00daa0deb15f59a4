"""The web player for kiosks and TVs: the page, its Service Worker, and their URLs (/screens/player/)."""
