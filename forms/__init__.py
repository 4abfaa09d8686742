"""The forms app that writes: submissions, feed proposals, moderation, login and accounts.

It sits above the publisher (``api``): it uses the publisher's web machinery (templates,
strings, language prefix) and is mounted onto the publisher's app by ``install_forms``;
``api`` never imports it.
"""
