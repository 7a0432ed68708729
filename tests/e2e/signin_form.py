"""The sign-in page's form as a client's "browser" reads it: the form's
action and its hidden and text fields, for the e2e scripts that play the
user (python_sdk_oauth.py, inspector_oauth.py)."""
from html.parser import HTMLParser


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
        if tag == "input" and a.get("name") and a.get("type") in ("hidden", None, "text"):
            self.fields[a["name"]] = a.get("value", "")
