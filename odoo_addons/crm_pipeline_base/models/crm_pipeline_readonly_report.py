import json

from odoo import api, fields, models
from odoo.tools import SQL

# the SQL type of a report column, per field type
_COLUMN_TYPES = {
    "boolean": "boolean",
    "char": "varchar",
    "date": "date",
    "datetime": "timestamp",
    "float": "float8",
    "integer": "int4",
    "many2one": "int4",
    "monetary": "numeric",
    "selection": "varchar",
    "text": "text",
}
# parameters given as they are
_SCALAR_TYPES = ("integer", "float", "boolean", "char")
# the cursor cache's key of the next id of a report line
_NEXT_ID_KEY = ("crm.pipeline.readonly.report", "next id")


class CrmPipelineReadonlyReport(models.AbstractModel):
    """Report lines computed when they are read: nothing is stored, so a report is a read.

    A report's parameters form (a transient model, ``_report_model``) puts its parameters in the context of
    the action it opens (``_report_context_key``, see :meth:`_report_action`); the lines' table is
    then the result of the form's ``_report_values()`` for those parameters, computed once per transaction
    and handed to PostgreSQL as a JSON record set. Every read of the lines (the list, the graph, their
    groups, ``search_read`` over JSON-2) is a read-only call: where Odoo runs with ``--db_replica_host``,
    the replica serves the whole report, and the primary sees no write for it.

    A line model sets ``_auto = False`` itself (Odoo does not inherit it): otherwise Odoo creates a table
    for it that nothing fills.
    """

    _name = "crm.pipeline.readonly.report"
    _description = "Pipeline Report Computed On Read"
    _auto = False
    _report_model = None  # the parameters form's model
    _report_context_key = None  # the context key that carries its parameters

    @api.model
    def _report_params(self):
        """The parameters of the report in the context (an empty dict: the form's defaults)."""
        params = self.env.context.get(self._report_context_key) or {}
        return params if isinstance(params, dict) else {}

    @api.model
    def _report_rows(self):
        """The report's lines as dicts of this model's columns, computed once per transaction."""
        params = self._report_params()
        key = (
            "crm.pipeline.readonly.report",
            self._name,
            self.env.uid,
            self.env.su,
            json.dumps(params, sort_keys=True, default=str),
            tuple(self.env.companies.ids),
            self.env.context.get("lang"),
            # a report's days are the user's (his preferences' time zone when the context has none)
            self.env.context.get("tz") or self.env.user.tz,
        )
        cache = self.env.cr.cache
        if key not in cache:
            Form = self.env[self._report_model]
            values = Form.new(Form._report_params_to_values(params))._report_values()
            # a line with a natural id (one per stage...) keeps it: a button on selected lines then acts
            # on the same lines when they are read again, even if others came or went in between; the others
            # get ids of their own in the transaction: the ORM caches field values by id, whatever the
            # context, so a second report must not reuse the first one's ids
            first = cache.get(_NEXT_ID_KEY, 1)
            cache[key] = [
                line if line.get("id") else dict(line, id=index)
                for index, line in enumerate(values, start=first)
            ]
            cache[_NEXT_ID_KEY] = first + len(values)
        return cache[key]

    @property
    def _table_query(self):
        columns = [("id", "int4")] + [
            (name, _COLUMN_TYPES[field.type])
            for name, field in self._fields.items()
            if field.store and field.column_type and name != "id"
        ]
        # Odoo's empty value is False; in a column other than a boolean, SQL's is NULL
        empty = {name: None if sql_type != "boolean" else False for name, sql_type in columns}
        rows = [
            {name: row.get(name) if row.get(name) is not False else empty[name] for name in empty}
            for row in self._report_rows()
        ]
        return SQL(
            "SELECT * FROM jsonb_to_recordset(%s::jsonb) AS report_rows(%s)",
            json.dumps(rows, default=str),
            SQL(", ").join(SQL("%s %s", SQL.identifier(name), SQL(sql_type)) for name, sql_type in columns),
        )


class CrmPipelineReadonlyReportForm(models.AbstractModel):
    """The parameters form of a report computed on read (:class:`CrmPipelineReadonlyReport`)."""

    _name = "crm.pipeline.readonly.report.form"
    _description = "Pipeline Report Parameters"
    _report_line_model = None  # the report lines' model
    _report_param_fields = ()  # the fields that make the report's parameters

    def _report_values(self):
        """The report's lines, as dicts of the line model's columns: no write. A line's ``id`` follows
        its position (numbered on from the transaction's earlier reports), unless the lines give their own
        (a natural key, such as a stage's id: every line one, unique and positive), which a button on
        selected lines then finds again on its own read."""
        raise NotImplementedError

    def _report_params(self):
        """This form's parameters as JSON values (ids for relations, ISO text for dates)."""
        self.ensure_one()
        params = {}
        for name in self._report_param_fields:
            field = self._fields[name]
            value = self[name]
            if field.type in ("many2many", "one2many"):
                params[name] = value.ids
            elif field.type == "many2one":
                params[name] = value.id
            elif field.type == "date":
                params[name] = fields.Date.to_string(value) if value else False
            elif field.type == "datetime":
                params[name] = fields.Datetime.to_string(value) if value else False
            else:
                params[name] = value
        return params

    @api.model
    def _report_params_to_values(self, params):
        """Values for ``new()``: the form's defaults, then the parameters as :meth:`_report_params` gives
        them. Unknown keys, values of the wrong kind and ids of records that no longer exist are dropped,
        so a hand-made context opens the report with the defaults rather than failing."""
        values = self.default_get(list(self._report_param_fields))
        for name, value in params.items():
            field = self._fields.get(name)
            if name not in self._report_param_fields or field is None:
                continue
            if field.type in ("many2many", "one2many", "many2one"):
                raw = (value if isinstance(value, list) else [value]) if value else []
                ids = [i for i in raw if isinstance(i, int) and not isinstance(i, bool)]
                records = self.env[field.comodel_name].browse(ids).exists()
                many = field.type != "many2one"
                values[name] = [fields.Command.set(records.ids)] if many else records[:1].id
            elif field.type == "selection":
                if value in dict(field._description_selection(self.env)):
                    values[name] = value
            elif field.type in ("date", "datetime"):
                try:
                    values[name] = field.convert_to_cache(value, self) if value else False
                except ValueError:
                    continue
            elif field.type in _SCALAR_TYPES and isinstance(value, int | float | str):
                values[name] = field.convert_to_cache(value, self)
        return values

    def _report_action(self, name, **action):
        """The window action that opens this form's report lines for its parameters (no write)."""
        self.ensure_one()
        lines = self.env[self._report_line_model]
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": lines._name,
            "view_mode": "list",
            "target": "current",
            **action,
            "context": {**action.get("context", {}), lines._report_context_key: self._report_params()},
        }
