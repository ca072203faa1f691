"""Subscriptions of the emulated Chargebee site on the items model: created on item prices
(one plan, any addons, a unit price override), changed mid-term with proration, cancelled now
or at the end of the term, renewed when the sandbox ends a term.
https://apidocs.chargebee.com/docs/api/subscriptions
"""

from __future__ import annotations

from typing import Any

from . import _forms as forms
from ._billing import BillingMixin, found_in, timestamp
from ._objects import (
    JSON,
    ChargebeeAPIError,
    add_period,
    new_id,
    resource_version,
    wrong_value,
)


class SubscriptionsMixin(BillingMixin):
    """Subscriptions of :class:`~._state.ChargebeeState`."""

    item_prices: dict[str, JSON]

    def customer(self, customer_id: str) -> JSON:
        raise NotImplementedError  # ChargebeeState keeps customers

    # -- subscriptions ----------------------------------------------------------------------

    def subscription(self, subscription_id: str) -> JSON:
        return found_in(self.subscriptions, "Subscription", subscription_id)

    def _items(self, rows: Any, currency: str | None) -> tuple[list[JSON], JSON]:
        """``subscription_items[...]`` rows -> subscription items, and the plan's item price."""
        if not isinstance(rows, list) or not rows:
            raise ChargebeeAPIError(
                400,
                "param_wrong_value",
                "subscription_items[item_price_id][0] : cannot be blank",
                param="subscription_items[item_price_id][0]",
            )
        out: list[JSON] = []
        plan: JSON | None = None
        for index, row in enumerate(rows):
            param = f"subscription_items[item_price_id][{index}]"
            price_id = row.get("item_price_id")
            if not price_id:
                raise ChargebeeAPIError(
                    400, "param_wrong_value", f"{param} : cannot be blank", param=param
                )
            price = self.item_prices.get(price_id)
            if price is None:
                raise ChargebeeAPIError(
                    404,
                    "resource_not_found",
                    f"{param} : ItemPrice {price_id} not found",
                    param=param,
                )
            if currency is not None and price["currency_code"] != currency:
                raise wrong_value(
                    param,
                    f"{param} : item price {price_id} is in "
                    f"{price['currency_code']}, the subscription in {currency}",
                )
            currency = price["currency_code"]
            quantity = forms.integer(row, "quantity", 1) or 1
            unit_price = forms.integer(row, "unit_price", price["price"])
            assert unit_price is not None
            amount = unit_price if price["pricing_model"] == "flat_fee" else unit_price * quantity
            out.append(
                {
                    "item_price_id": price_id,
                    "item_type": price["item_type"],
                    "quantity": quantity,
                    "unit_price": unit_price,
                    "amount": amount,
                    "free_quantity": 0,
                    "object": "subscription_item",
                }
            )
            if price["item_type"] == "plan":
                if plan is not None:
                    raise wrong_value(param, f"{param} : only one plan item price is allowed")
                plan = price
        if plan is None:
            raise wrong_value(
                "subscription_items[item_price_id][0]",
                "subscription_items : a plan item price is required",
            )
        return out, plan

    def _lines(self, sub: JSON, start: int, end: int) -> list[JSON]:
        return [
            {
                "item_price_id": i["item_price_id"],
                "quantity": i["quantity"],
                "unit_amount": i["unit_price"],
                "amount": i["amount"],
                "from": start,
                "to": end,
                "description": self.item_prices[i["item_price_id"]]["name"],
                "entity_type": f"{i['item_type']}_item_price",
                "pricing_model": self.item_prices[i["item_price_id"]]["pricing_model"],
            }
            for i in sub["subscription_items"]
        ]

    def create_subscription(self, customer_id: str, params: JSON) -> JSON:
        """https://apidocs.chargebee.com/docs/api/subscriptions#create_subscription_for_items"""
        customer = self.customer(customer_id)
        sub_id = str(params.get("id") or new_id())
        if sub_id in self.subscriptions:
            raise ChargebeeAPIError(
                400, "duplicate_entry", f"id : The value {sub_id} is already present.", param="id"
            )
        items, plan = self._items(params.get("subscription_items"), None)
        now = timestamp()
        trial_end = forms.integer(params, "trial_end")
        in_trial = trial_end is not None and trial_end > now
        start = trial_end if in_trial and trial_end is not None else now
        end = add_period(start, plan["period_unit"], plan["period"])
        sub: JSON = {
            "id": sub_id,
            "customer_id": customer_id,
            "currency_code": plan["currency_code"],
            "status": "in_trial" if in_trial else "active",
            "billing_period": plan["period"],
            "billing_period_unit": plan["period_unit"],
            "current_term_start": now if in_trial else start,
            "current_term_end": start if in_trial else end,
            "next_billing_at": start if in_trial else end,
            "created_at": now,
            "started_at": now,
            "updated_at": now,
            "resource_version": resource_version(),
            "auto_collection": customer["auto_collection"],
            "has_scheduled_advance_invoices": False,
            "has_scheduled_changes": False,
            "decommissioned": False,
            "deleted": False,
            "object": "subscription",
            "due_invoices_count": 0,
            "mrr": 0,
            "channel": "web",
            "subscription_items": items,
            "meta_data": forms.meta_data(params),
        }
        if in_trial:
            sub.update(trial_start=now, trial_end=trial_end)
        else:
            sub["activated_at"] = now
        if params.get("net_term_days"):
            sub["net_term_days"] = forms.integer(params, "net_term_days")
        self.subscriptions[sub_id] = sub
        invoice = None
        content: JSON = {"subscription": sub, "customer": customer}
        if not in_trial:
            invoice = self._raise_invoice(
                sub, self._lines(sub, start, end), recurring=True, first=True
            )
            content["invoice"] = invoice
        self._event("subscription_created", content)
        if invoice is not None:
            self._event("invoice_generated", {"invoice": invoice})
            self._collect(invoice)
            sub["due_invoices_count"] = 0 if invoice["status"] == "paid" else 1
        return {
            "subscription": sub,
            "customer": customer,
            **({"invoice": invoice} if invoice is not None else {}),
        }

    def update_subscription(self, sub_id: str, params: JSON) -> JSON:
        """Change items mid-term with proration: an increase is invoiced now for the rest of
        the term, a decrease becomes an adjustment credit note.
        https://apidocs.chargebee.com/docs/api/subscriptions#update_subscription_for_items"""
        sub = self.subscription(sub_id)
        if sub["status"] == "cancelled":
            raise ChargebeeAPIError(
                409, "invalid_state_for_request", f"Subscription {sub_id} is cancelled"
            )
        replace = forms.boolean(params, "replace_items_list")
        changes, _ = self._items(
            params.get("subscription_items") if replace else self._merge_rows(sub, params),
            sub["currency_code"],
        )
        before = sum(i["amount"] for i in sub["subscription_items"])
        after = sum(i["amount"] for i in changes)
        now = timestamp()
        start, end = sub["current_term_start"], sub["current_term_end"]
        prorate = forms.boolean(params, "prorate", True)
        fraction = max(0.0, (end - now) / (end - start)) if end > start else 0.0
        difference = round((after - before) * fraction) if prorate else 0
        sub["subscription_items"] = changes
        sub.update(updated_at=now, resource_version=resource_version())
        if "meta_data" in params:
            sub["meta_data"] = forms.meta_data(params)
        content: JSON = {"subscription": sub, "customer": self.customers[sub["customer_id"]]}
        invoice = credit = None
        if difference > 0 and sub["status"] == "active":
            invoice = self._raise_invoice(
                sub,
                [
                    {
                        "item_price_id": changes[0]["item_price_id"],
                        "quantity": 1,
                        "unit_amount": difference,
                        "amount": difference,
                        "from": now,
                        "to": end,
                        "description": "Prorated charge for the subscription change",
                        "entity_type": "plan_item_price",
                    }
                ],
                recurring=False,
                first=False,
            )
            content["invoice"] = invoice
        elif difference < 0 and sub["status"] == "active":
            credit = self._credit_for(sub, -difference, "subscription_change")
            content["credit_notes"] = [credit]
        self._event("subscription_changed", content)
        if invoice is not None:
            self._event("invoice_generated", {"invoice": invoice})
            self._collect(invoice)
        out: JSON = {"subscription": sub, "customer": self.customers[sub["customer_id"]]}
        if invoice is not None:
            out["invoice"] = invoice
        if credit is not None:
            out["credit_notes"] = [credit]
        return out

    def _merge_rows(self, sub: JSON, params: JSON) -> list[JSON]:
        """Without ``replace_items_list`` the given items are added or updated in place."""
        rows = {
            i["item_price_id"]: {
                "item_price_id": i["item_price_id"],
                "quantity": str(i["quantity"]),
                "unit_price": str(i["unit_price"]),
            }
            for i in sub["subscription_items"]
        }
        for row in params.get("subscription_items") or []:
            price_id = row.get("item_price_id")
            merged = {**rows.get(price_id, {}), **row}
            if "unit_price" not in row and price_id not in rows and price_id in self.item_prices:
                merged.pop("unit_price", None)
            rows[price_id] = merged
        return list(rows.values())

    def cancel_subscription(self, sub_id: str, params: JSON) -> JSON:
        """https://apidocs.chargebee.com/docs/api/subscriptions#cancel_subscription_for_items"""
        sub = self.subscription(sub_id)
        if sub["status"] == "cancelled":
            raise ChargebeeAPIError(
                409, "invalid_state_for_request", f"Subscription {sub_id} is already cancelled"
            )
        now = timestamp()
        customer = self.customers[sub["customer_id"]]
        if forms.boolean(params, "end_of_term"):
            sub.update(
                status="non_renewing",
                cancelled_at=sub["current_term_end"],
                updated_at=now,
                resource_version=resource_version(),
            )
            sub.pop("next_billing_at", None)
            self._event(
                "subscription_cancellation_scheduled", {"subscription": sub, "customer": customer}
            )
            return {"subscription": sub, "customer": customer}
        option = params.get("credit_option_for_current_term_charges") or "none"
        if option not in ("none", "prorate", "full"):
            raise wrong_value(
                "credit_option_for_current_term_charges",
                f"credit_option_for_current_term_charges : invalid value {option}",
            )
        start, end = sub["current_term_start"], sub["current_term_end"]
        recurring = sum(i["amount"] for i in sub["subscription_items"])
        unused = (
            recurring
            if option == "full"
            else round(recurring * max(0.0, (end - now) / (end - start)))
            if option == "prorate" and end > start
            else 0
        )
        sub.update(
            status="cancelled",
            cancelled_at=now,
            current_term_end=now,
            updated_at=now,
            resource_version=resource_version(),
        )
        if params.get("cancel_reason_code"):
            sub["cancel_reason_code"] = params["cancel_reason_code"]
        sub.pop("next_billing_at", None)
        content: JSON = {"subscription": sub, "customer": customer}
        out: JSON = {"subscription": sub, "customer": customer}
        if unused > 0:
            credit = self._credit_for(sub, unused, "subscription_cancellation")
            content["credit_notes"] = out["credit_notes"] = [credit]
        self._event("subscription_cancelled", content)
        return out

    def renew(self, sub_id: str) -> JSON:
        """The term ends now (the sandbox's clock jump): a new term, invoiced and collected.
        Chargebee raises subscription_renewed, invoice_generated, then the payment event."""
        with self.lock:
            sub = self.subscription(sub_id)
            if sub["status"] not in ("active", "non_renewing", "in_trial"):
                raise ChargebeeAPIError(
                    409, "invalid_state_for_request", f"Subscription {sub_id} is {sub['status']}"
                )
            if sub["status"] == "non_renewing":
                return self.cancel_subscription(sub_id, {})
            start = sub["current_term_end"]
            end = add_period(start, sub["billing_period_unit"], sub["billing_period"])
            was_trial = sub["status"] == "in_trial"
            sub.update(
                current_term_start=start,
                current_term_end=end,
                next_billing_at=end,
                status="active",
                updated_at=timestamp(),
                resource_version=resource_version(),
            )
            if was_trial:
                sub["activated_at"] = start
            invoice = self._raise_invoice(
                sub, self._lines(sub, start, end), recurring=True, first=was_trial
            )
            content: JSON = {
                "subscription": sub,
                "customer": self.customers[sub["customer_id"]],
                "invoice": invoice,
            }
            self._event("subscription_activated" if was_trial else "subscription_renewed", content)
            self._event("invoice_generated", {"invoice": invoice})
            self._collect(invoice)
            return {"subscription": sub, "invoice": invoice}
