"""Admins create, edit, deactivate and reactivate accounts; nobody else can."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.extensions import db
from readerapp.users.models import User
from readerapp.users.operations import (
    UserError,
    authenticate,
    deactivate_user,
    update_user,
)

from . import groups_support
from .factories import PASSWORD
from .groups_support import fresh
from .world import World, build_world, client_for

deferred_reads = groups_support.deferred_reads
no_csrf = groups_support.no_csrf
pytestmark = pytest.mark.usefixtures("deferred_reads")


@pytest.fixture
def world() -> World:
    return build_world()


def _user_count() -> int:
    fresh()
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0


def test_admin_creates_a_partner_viewer_who_can_sign_in(
    app: Flask, world: World, no_csrf: None
) -> None:
    host_id = world.host.id
    response = client_for(app, world.admin).post(
        "/admin/users/new",
        data={
            "email": "Wendy.Ward@Trust.Example",
            "display_name": "Wendy Ward",
            "role": "partner_viewer",
            "organisation_id": str(host_id),
            "password": "a long enough password",
        },
    )
    assert response.status_code == 302
    fresh()
    user = authenticate("wendy.ward@trust.example", "a long enough password")
    assert user is not None
    assert (user.role, user.organisation_id, user.display_name) == (
        "partner_viewer",
        host_id,
        "Wendy Ward",
    )
    assert "Wendy Ward" in client_for(app, world.admin).get("/admin/users").text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not an email"}, "email"),
        ({"email": "lee@example.org", "display_name": "x" * 121}, "display_name"),
        ({"role": "overlord"}, "role"),
        ({"role": "partner_viewer", "organisation_id": ""}, "organisation_id"),
        ({"organisation_id": "424242"}, "organisation_id"),
        ({"organisation_id": "abc"}, "organisation_id"),
        ({"password": "short"}, "password"),
        ({"display_name": ""}, "display_name"),
    ],
)
def test_bad_new_user_input_is_inline_and_writes_nothing(
    app: Flask, world: World, no_csrf: None, changes: dict[str, str], field: str
) -> None:
    before = _user_count()
    data = {
        "email": "new.person@example.org",
        "display_name": "New Person",
        "role": "reader_leader",
        "organisation_id": "",
        "password": "a long enough password",
    } | changes
    response = client_for(app, world.admin).post("/admin/users/new", data=data)
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.text
    assert _user_count() == before


def test_an_email_already_in_use_is_refused(app: Flask, world: World, no_csrf: None) -> None:
    email = world.leader.email.upper()
    response = client_for(app, world.admin).post(
        "/admin/users/new",
        data={
            "email": email,
            "display_name": "Copy",
            "role": "reader_leader",
            "password": "a long enough password",
        },
    )
    assert response.status_code == 400
    assert 'id="email-error"' in response.text and "already exists" in response.text


def test_admin_edits_name_role_organisation_and_password(
    app: Flask, world: World, no_csrf: None
) -> None:
    leader_id, host_id, generation = world.leader.id, world.host.id, world.leader.session_generation
    leader_client = client_for(app, world.leader)
    assert leader_client.get("/groups").status_code == 200
    response = client_for(app, world.admin).post(
        f"/admin/users/{leader_id}/edit",
        data={
            "display_name": "Lee Partner",
            "role": "partner_viewer",
            "organisation_id": str(host_id),
            "new_password": "another long password",
        },
    )
    assert response.status_code == 302
    fresh()
    user = db.session.get(User, leader_id)
    assert (user.display_name, user.role, user.organisation_id) == (
        "Lee Partner",
        "partner_viewer",
        host_id,
    )
    assert user.session_generation == generation + 1
    assert user.check_password("another long password")
    # The reset signed the person out.
    assert leader_client.get("/groups").status_code == 302


def test_editing_without_a_password_keeps_it_and_the_session(
    app: Flask, world: World, no_csrf: None
) -> None:
    leader_id = world.leader.id
    leader_client = client_for(app, world.leader)
    response = client_for(app, world.admin).post(
        f"/admin/users/{leader_id}/edit",
        data={"display_name": "Lee Leader", "role": "reader_leader", "new_password": ""},
    )
    assert response.status_code == 302
    fresh()
    assert db.session.get(User, leader_id).check_password(PASSWORD)
    assert leader_client.get("/groups").status_code == 200


def test_an_admin_cannot_change_their_own_role_or_deactivate_themselves(
    app: Flask, world: World, no_csrf: None
) -> None:
    admin_id = world.admin.id
    client = client_for(app, world.admin)
    response = client.post(
        f"/admin/users/{admin_id}/edit", data={"display_name": "Ada", "role": "manager"}
    )
    assert response.status_code == 400 and 'id="role-error"' in response.text
    response = client.post(f"/admin/users/{admin_id}/deactivate")
    assert response.status_code == 303
    fresh()
    admin = db.session.get(User, admin_id)
    assert (admin.role, admin.active, admin.display_name) == ("admin", True, "Ada Admin")


def test_deactivating_signs_the_person_out_at_once_and_reactivating_lets_them_back(
    app: Flask, world: World, no_csrf: None
) -> None:
    leader_id, email = world.leader.id, world.leader.email
    leader_client = client_for(app, world.leader)
    assert leader_client.get("/groups").status_code == 200
    admin = client_for(app, world.admin)
    assert admin.post(f"/admin/users/{leader_id}/deactivate").status_code == 302
    # The same browser session is no longer signed in.
    response = leader_client.get("/groups")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    fresh()
    assert authenticate(email, PASSWORD) is None
    assert "Deactivated" in admin.get("/admin/users?state=inactive").text
    assert admin.post(f"/admin/users/{leader_id}/reactivate").status_code == 302
    fresh()
    assert authenticate(email, PASSWORD) is not None


def test_only_admins_reach_user_administration(app: Flask, world: World) -> None:
    leader_id = world.leader.id
    for role in ("manager", "leader", "partner"):
        client = client_for(app, world.user_for(role))
        assert client.get("/admin/users").status_code == 403
        assert client.get(f"/admin/users/{leader_id}/edit").status_code == 403
    assert ">Users<" in client_for(app, world.admin).get("/admin/users").text
    assert ">Users<" not in client_for(app, world.manager).get("/groups").text
    assert client_for(app, world.admin).get("/admin/users/999999/edit").status_code == 404


def test_deactivation_without_csrf_token_is_refused(app: Flask, world: World) -> None:
    leader_id = world.leader.id
    response = client_for(app, world.admin).post(f"/admin/users/{leader_id}/deactivate")
    assert response.status_code == 400
    fresh()
    assert db.session.get(User, leader_id).active is True


def test_list_filters_and_searches(app: Flask, world: World) -> None:
    client = client_for(app, world.admin)
    leaders = client.get("/admin/users?role=reader_leader").text
    assert "Lee Leader" in leaders and "Mona Manager" not in leaders
    found = client.get("/admin/users?q=olive").text
    assert "Olive Otherleader" in found and "Lee Leader" not in found
    assert client.get("/admin/users?role=x&state=y&page=abc").status_code == 200


def test_operations_refuse_bad_changes(world: World) -> None:
    with pytest.raises(UserError) as caught:
        update_user(world.leader, display_name="Lee", role="partner_viewer", organisation_id=None)
    assert caught.value.field == "organisation"
    with pytest.raises(UserError) as caught:
        deactivate_user(world.admin, acting=world.admin)
    assert caught.value.field == "active"
    with pytest.raises(UserError) as caught:
        update_user(
            world.leader,
            display_name="Lee",
            role="reader_leader",
            organisation_id=None,
            new_password="short",
        )
    assert caught.value.field == "password"
    assert world.leader.check_password(PASSWORD)


def test_control_characters_and_odd_query_strings_never_fail(
    app: Flask, world: World, no_csrf: None
) -> None:
    client = client_for(app, world.admin)
    for url in ("/admin/users?q=%00", "/admin/users?page=%C2%B2", "/organisations?kind=%00"):
        assert client.get(url).status_code == 200, url
    before = _user_count()
    response = client.post(
        "/admin/users/new",
        data={
            "email": "nul@example.org",
            "display_name": "Nul\x00Person",
            "role": "reader_leader",
            "password": "a long enough password",
        },
    )
    assert response.status_code == 400 and 'id="display_name-error"' in response.text
    assert _user_count() == before
    response = client.post("/organisations/new", data={"name": "Bad\x00Org", "kind": "charity"})
    assert response.status_code == 400 and 'id="name-error"' in response.text
