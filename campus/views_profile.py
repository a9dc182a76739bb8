"""The profile page: who you are on Kampus, your password, your personal API tokens and your data.

Token management lives here rather than in the main menu: few people need it, and a secret is
shown exactly once, in the answer to the form that made it (never stored, never redirected).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from api.models import ApiToken
from api.tokens import MAX_VALID_DAYS, token_create, token_revoke
from campus.models import Membership
from campus.personal_data import person_data_export
from campus.views_site import privacy_contact


class TokenForm(forms.Form):
    """The name of a new API token: what it is for."""

    error_css_class = "has-error"

    name = forms.CharField(
        label=gettext_lazy("What is the token for?"),
        max_length=100,
        help_text=gettext_lazy("For example “timetable sync”. It helps you tell your tokens apart."),
    )

    valid_days = forms.IntegerField(
        label=gettext_lazy("Valid for (days)"),
        required=False,
        min_value=1,
        max_value=MAX_VALID_DAYS,
        help_text=gettext_lazy("Leave it empty for a token that works until you revoke it."),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the token a name."))
        return name


def _context(request: HttpRequest, form: TokenForm) -> dict[str, object]:
    return {
        "form": form,
        "privacy_contact": privacy_contact(),
        "tokens": list(ApiToken.objects.filter(user=request.user).order_by("revoked_at", "-created_at")),
        "memberships": list(
            Membership.objects.filter(user=request.user)
            .select_related("institution", "campus")
            .order_by("valid_until", "pk")
        ),
    }


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """Render the profile page; a POST makes an API token and shows its secret this once."""
    form = TokenForm(request.POST or None)
    context = _context(request, form)
    if request.method == "POST" and form.is_valid():
        token, secret = token_create(
            user=request.user, name=form.cleaned_data["name"], valid_days=form.cleaned_data["valid_days"]
        )
        context = _context(request, TokenForm())
        context.update(new_token=token, secret=secret)
        response = render(request, "campus/profile.html", context)
        response["Cache-Control"] = "no-store"  # the secret must not linger in any cache
        return response
    return render(request, "campus/profile.html", context)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the signed-in person's own API tokens."""
    token = ApiToken.objects.filter(user=request.user, pk=pk).first()
    if token is None:
        raise Http404(_("You have no such token."))
    token_revoke(token=token)
    messages.success(request, _("The token %(name)s was revoked.") % {"name": token.name})
    return redirect("campus:profile")


@login_required
@require_http_methods(["GET"])
def personal_data_download(request: HttpRequest) -> HttpResponse:
    """Answer the signed-in person's data as a JSON file to save (GDPR access and portability)."""
    response = JsonResponse(
        person_data_export(user=request.user), json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    filename = f"kampus-{request.user.username}-{timezone.localdate():%Y-%m-%d}.json"
    # Usernames are letters, digits and @.+-_ (Django's validator): safe inside the quoted filename.
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
