"""Email as data: parsing raw RFC 822 bytes, turning HTML into text, stripping quotes, building replies."""
