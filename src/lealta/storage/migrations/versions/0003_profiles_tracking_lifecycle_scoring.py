"""Profiles (consent, tags, lists, typed attributes), the tracking inbox, stage and score history,
forms, rule sets and stored RFM results.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 05:46:47.433549
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attribute_definitions",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_attribute_definitions")),
    )
    op.create_table(
        "inbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_inbox_message_id")),
    )
    op.create_table(
        "lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("double_opt_in", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lists")),
        sa.UniqueConstraint("slug", name=op.f("uq_lists_slug")),
    )
    op.create_table(
        "rule_sets",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rule_sets")),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column(
            "proof",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_consents_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consents_contact_channel", ["contact_id", "channel", "id"], unique=False
        )

    op.create_table(
        "contact_rfm",
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.Double(), nullable=False),
        sa.Column("payment", sa.Double(), nullable=True),
        sa.Column("r", sa.Integer(), nullable=False),
        sa.Column("f", sa.Integer(), nullable=False),
        sa.Column("m", sa.Integer(), nullable=False),
        sa.Column("p", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("segment", sa.String(length=100), nullable=False),
        sa.Column("cluster", sa.Integer(), nullable=True),
        sa.Column("cluster_name", sa.String(length=100), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_rfm_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_contact_rfm")),
    )
    with op.batch_alter_table("contact_rfm", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_rfm_segment"), ["segment"], unique=False)

    op.create_table(
        "contact_tags",
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_tags_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("contact_id", "tag", name=op.f("pk_contact_tags")),
    )
    with op.batch_alter_table("contact_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "forms",
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=True),
        sa.Column("double_opt_in", sa.Boolean(), nullable=False),
        sa.Column(
            "consent_channels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("redirect_url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["lists.id"], name=op.f("fk_forms_list_id_lists")),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_forms")),
    )
    op.create_table(
        "list_memberships",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_list_memberships_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["lists.id"], name=op.f("fk_list_memberships_list_id_lists")
        ),
        sa.PrimaryKeyConstraint("list_id", "contact_id", name=op.f("pk_list_memberships")),
    )
    with op.batch_alter_table("list_memberships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_list_memberships_contact_id"), ["contact_id"], unique=False
        )

    op.create_table(
        "score_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("points", sa.Double(), nullable=False),
        sa.Column("score_after", sa.Double(), nullable=False),
        sa.Column("event_key", sa.String(length=128), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_score_changes_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_changes")),
    )
    with op.batch_alter_table("score_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_score_changes_contact_time", ["contact_id", "occurred_at"], unique=False
        )

    op.create_table(
        "stage_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("from_stage", sa.String(length=64), nullable=True),
        sa.Column("to_stage", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("cause", sa.String(length=128), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_stage_changes_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_changes")),
    )
    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stage_changes_contact_time", ["contact_id", "changed_at"], unique=False
        )

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "score_state",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default="{}",
            )
        )
        batch_op.add_column(sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_contacts_last_seen_at"), ["last_seen_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_last_seen_at"))
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("first_seen_at")
        batch_op.drop_column("score_state")

    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_stage_changes_contact_time")

    op.drop_table("stage_changes")
    with op.batch_alter_table("score_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_score_changes_contact_time")

    op.drop_table("score_changes")
    with op.batch_alter_table("list_memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_list_memberships_contact_id"))

    op.drop_table("list_memberships")
    op.drop_table("forms")
    with op.batch_alter_table("contact_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_tags_tag"))

    op.drop_table("contact_tags")
    with op.batch_alter_table("contact_rfm", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_rfm_segment"))

    op.drop_table("contact_rfm")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index("ix_consents_contact_channel")

    op.drop_table("consents")
    op.drop_table("rule_sets")
    op.drop_table("lists")
    op.drop_table("inbox")
    op.drop_table("attribute_definitions")
