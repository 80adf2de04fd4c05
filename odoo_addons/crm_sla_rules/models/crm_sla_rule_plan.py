"""The plain-value adapters: leads, rule and teams read into sla_rules values, and the plan sla_rules
makes."""

from odoo import fields, models

from .crm_sla_rule import AUDITED_FIELDS


class CrmSlaRule(models.Model):
    _inherit = "crm.sla.rule"  # pylint: disable=consider-merging-classes-inherited  # one file per concern

    def _sla_leads(self, lead_ids):
        # sudo: the rule acts on leads of every salesperson; history records the stays as SLA moves.
        # Like crm's own lead assignment, no "you have been assigned" mail per lead (the new owner follows
        # the lead and the chatter note says why); notifications are queued, not sent inside the run.
        return (
            self.env["crm.lead"]
            .sudo()
            .with_context(
                stage_history_origin="sla", mail_auto_subscribe_no_notify=True, mail_notify_force_send=False
            )
            .browse(lead_ids)
        )

    def _sla_rule_values(self):
        from sla_rules.rules import Rule

        return Rule(
            id=self.id,
            name=self.name,
            clock=self.clock,
            threshold=self.threshold,
            unit=self.unit,
            action=self.action,
            warning_before=self.warning_before,
            team_ids=frozenset(self.team_ids.ids),
            lead_type=self.lead_type,
            stage_ids=frozenset(self.stage_ids.ids),
            company_ids=frozenset(self.company_ids.ids),
            reassign_mode=self.reassign_mode,
            user_id=self.reassign_user_id.id or None,
            target_team_id=self.target_team_id.id or None,
            tag_ids=frozenset(self.tag_ids.ids),
            lost_reason_id=self.lost_reason_id.id or None,
        )

    def _sla_snapshots(self, leads):
        from sla_rules.rules import LeadSnapshot

        has_partner = "partner_assigned_id" in leads._fields
        return [
            LeadSnapshot(
                id=lead.id,
                type=lead.type,
                team_id=lead.team_id.id or None,
                user_id=lead.user_id.id or None,
                stage_id=lead.stage_id.id or None,
                company_id=lead.company_id.id or None,
                create_date=lead.create_date,
                date_last_stage_update=lead.date_last_stage_update,
                date_open=lead.date_open,
                sla_last_action_date=lead.sla_last_action_date,
                sla_owner_since=lead.sla_owner_since,
                sla_team_since=lead.sla_team_since,
                partner_assigned_id=(lead.partner_assigned_id.id or None) if has_partner else None,
                has_partner_assigned=has_partner,
                active=lead.active,
                won=lead.won_status == "won",
                name=lead.name or "",
            )
            for lead in leads
        ]

    def _sla_teams(self, leads):
        """Plain team facts for the action plan: leader, members in rotation order, absences, capacity."""
        from sla_rules.rules import Member, TeamInfo

        teams = leads.team_id | self.target_team_id
        now = fields.Datetime.now()
        infos = {}
        for team in teams:
            members = team.crm_team_member_ids.filtered("active").sorted("id")
            infos[team.id] = TeamInfo(
                team_id=team.id,
                leader_id=team.user_id.id or None,
                members=tuple(
                    Member(
                        user_id=member.user_id.id,
                        absent=member.assignment_optout
                        or bool(
                            member.user_id.out_of_office_from
                            and member.user_id.out_of_office_from <= now
                            and (
                                not member.user_id.out_of_office_to or now <= member.user_id.out_of_office_to
                            )
                        ),
                        capacity_left=(
                            max(member.assignment_max - member.lead_month_count, 0)
                            if team.assignment_enabled and member.assignment_max
                            else None
                        ),
                    )
                    for member in members
                ),
            )
        return infos

    def _sla_plan(self, leads):
        """``(plans, rotation)`` from ``sla_rules.plan_actions`` on plain values (no write)."""
        from sla_rules.rules import plan_actions

        users = leads.user_id | leads.team_id.user_id | leads.team_id.crm_team_member_ids.user_id
        # keyed by kind: a user, a team and a tag may share an id
        names = {("user", user.id): user.name for user in users | self.reassign_user_id}
        names.update({("team", team.id): team.name for team in leads.team_id | self.target_team_id})
        names.update({("tag", tag.id): tag.name for tag in self.tag_ids})
        names.update({("lost_reason", reason.id): reason.name for reason in self.lost_reason_id})
        if "partner_assigned_id" in leads._fields:
            names.update({("partner", partner.id): partner.name for partner in leads.partner_assigned_id})
        return plan_actions(
            self._sla_rule_values(),
            self._sla_snapshots(leads),
            self._sla_teams(leads),
            rotation={int(team): user for team, user in (self.rotation_state or {}).items()},
            names=names,
        )

    def _sla_audit_values(self, leads):
        fields_ = [name for name in AUDITED_FIELDS if name in leads._fields]
        values = {}
        for lead in leads.with_context(active_test=False):
            row = {}
            for name in fields_:
                value = lead[name]
                row[name] = value.display_name if isinstance(value, models.BaseModel) else value
            values[lead.id] = row
        return values
