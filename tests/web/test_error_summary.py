"""The error summary (WEB.md "Forms"): each error a link, to its field's control, or to the
page's main content for a message of no field (someone changed the referral, a form sent
before)."""

from __future__ import annotations

from app.web.forms import FormErrors


def test_each_message_links_to_its_fields_control() -> None:
    errors = FormErrors(anchors={"potential_victim.date_of_birth": "dob.day"})
    errors.add("reasons", "Enter the reasons")
    errors.add("potential_victim.date_of_birth", "Enter a date of birth in the past")
    assert errors.summary() == [
        {"text": "Enter the reasons", "href": "#reasons"},
        {"text": "Enter a date of birth in the past", "href": "#dob.day"},
    ]


def test_a_message_of_no_field_links_to_the_main_content() -> None:
    errors = FormErrors()
    errors.add("", "Someone changed this referral while you were writing")
    assert errors.summary() == [
        {"text": "Someone changed this referral while you were writing", "href": "#main-content"}
    ]


def test_a_form_may_name_where_its_messages_of_no_field_link() -> None:
    errors = FormErrors(anchors={"": "decision"})
    errors.add("", "Someone changed this referral while you were writing")
    assert errors.summary()[0]["href"] == "#decision"
