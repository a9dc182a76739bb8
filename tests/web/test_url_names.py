"""Every URL name a template reverses exists, and the page URLs keep their paths under their namespaces.

``{% url 'name' as var %}`` turns an unknown name into an empty string instead of an error, and a
page test only renders the branches its data takes, so the templates' names are checked here by
reading the compiled templates, without rendering them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from django.template.defaulttags import URLNode
from django.urls import URLResolver, get_resolver, reverse


def known_url_names(resolver: URLResolver | None = None, prefix: str = "") -> set[str]:
    """Return every name the project's URLs can be reversed by, namespaces included ("bookings:detail")."""
    resolver = resolver or get_resolver()
    names = {prefix + key for key in resolver.reverse_dict if isinstance(key, str)}
    for namespace, (_pattern, child) in resolver.namespace_dict.items():
        names |= known_url_names(child, f"{prefix}{namespace}:")
    return names


def project_templates() -> list[str]:
    """Return the names of the templates in the project's template directories."""
    return sorted(
        str(path.relative_to(directory))
        for directory in map(Path, settings.TEMPLATES[0]["DIRS"])
        for path in directory.rglob("*.html")
    )


def url_names_in(template_name: str) -> list[str]:
    """Return the view names of the ``{% url %}`` tags of ``template_name`` (blocks, conditions and loops included)."""
    template = engines["django"].get_template(template_name).template
    return [str(node.view_name.var) for node in template.nodelist.get_nodes_by_type(URLNode)]


def test_every_url_name_in_the_templates_exists():
    known = known_url_names()
    used = {name: template for template in project_templates() for name in url_names_in(template)}

    assert {"campus:home", "bookings:detail", "manage:approvals", "login", "admin:index"} <= set(used)
    unknown = {name: template for name, template in used.items() if name not in known}
    assert unknown == {}


def test_the_check_finds_a_name_hidden_in_an_as_clause_under_a_condition():
    template = engines["django"].from_string("{% if x %}{% url 'bookings:nowhere' 1 as u %}{{ u }}{% endif %}")

    [node] = template.template.nodelist.get_nodes_by_type(URLNode)
    assert node.view_name.var == "bookings:nowhere"
    assert "bookings:nowhere" not in known_url_names()


@pytest.mark.parametrize(
    ("name", "args", "path"),
    [
        ("campus:home", [], "/"),
        ("campus:accessibility", [], "/accessibility/"),
        ("campus:privacy", [], "/privacy/"),
        ("campus:favicon", [], "/favicon.ico"),
        ("campus:profile", [], "/profile/"),
        ("campus:profile-token-revoke", [3], "/profile/tokens/3/revoke/"),
        ("bookings:find-room", [], "/rooms/find/"),
        ("bookings:room-detail", [3], "/rooms/3/"),
        ("bookings:room-print", [3], "/rooms/3/print/"),
        ("bookings:new", [], "/bookings/new/"),
        ("bookings:preview", [], "/bookings/new/preview/"),
        ("bookings:detail", [3], "/bookings/3/"),
        ("bookings:mine", [], "/bookings/mine/"),
        ("bookings:edit", [3], "/bookings/3/edit/"),
        ("bookings:cancel", [3], "/bookings/3/cancel/"),
        ("bookings:release", [3], "/bookings/3/release/"),
        ("bookings:handover", [3], "/bookings/3/handover/"),
        ("manage:approvals", [], "/manage/approvals/"),
        ("manage:approve", [3], "/manage/approvals/3/approve/"),
        ("manage:reject", [3], "/manage/approvals/3/reject/"),
        ("manage:closures", [], "/manage/closures/"),
        ("manage:closure-detail", [3], "/manage/closures/3/"),
        ("manage:closure-cancel-bookings", [3], "/manage/closures/3/cancel-bookings/"),
        ("manage:front-desk", [], "/manage/front-desk/"),
        ("manage:front-desk-print", [], "/manage/front-desk/print/"),
        ("set_language", [], "/i18n/setlang/"),
    ],
)
def test_each_page_keeps_its_path_under_its_namespaced_name(name, args, path):
    assert reverse(name, args=args) == path
