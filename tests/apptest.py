"""AppTest helpers shared by the page tests of every feature folder: a cold app on a test
database, signed in through the login form as a person would."""

import streamlit as st
from conftest import TEST_PASSWORDS
from streamlit.testing.v1 import AppTest

from blindspot import config
from blindspot.db import store as store_mod


def login(at, user, password=None):
    """Fill in and submit the login form as a person would; returns the AppTest after the run."""
    at.text_input[0].input(user)
    at.text_input[1].input(TEST_PASSWORDS[user] if password is None else password)
    return at.button[0].click().run()


def _app(env_db, path, user="admin"):
    """A cold app on the database ``path``, signed in as ``user`` (None: not signed in)."""
    env_db(path)
    # Caches outlive an AppTest inside one process: start each test from a cold app.
    st.cache_resource.clear()
    st.cache_data.clear()
    store_mod.close_all()
    at = AppTest.from_file(str(config.PROJECT_DIR / "app.py"), default_timeout=60)
    if user is None:
        return at
    at.run()
    return login(at, user) if len(at.text_input) >= 2 else at


def page(env_db, path, user: str, script: str):
    """``script`` (a views/ page) run once as ``user`` on the database ``path``."""
    at = _app(env_db, path, user=user)
    at.switch_page(script)
    return at.run()


def decks(at) -> list[dict]:
    """The deck.gl specs of every map the run drew."""
    import json

    return [json.loads(e.proto.json) for e in at.get("deck_gl_json_chart")]
