"""Scrapy spiders for calendars without iCal: schema.org pages, The Events Calendar REST, selectors.

Spiders run only inside the crawl process (:mod:`crawlers.crawl_child`). They yield plain
dict items of one of these shapes, which the parent turns into a ParseResult:

* ``{"type": "event", "event": RawEvent.to_dict()}``
* ``{"type": "problem", "url": ..., "reason": ...}`` (a page or record that was skipped)
* ``{"type": "page", "url": ..., "status": ..., "bytes": ..., "matched": ..., "start": bool}``
* ``{"type": "fatal", "error": "fetch" | "feed", "url": ..., "reason": ..., "status": ...}``
  (the start page could not be fetched, or was fetched and cannot be read)
"""
