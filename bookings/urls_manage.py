"""Pages for facility managers and the front desk."""

from django.urls import path

from bookings import views_manage

app_name = "manage"

urlpatterns = [
    path("manage/approvals/", views_manage.approvals, name="approvals"),
    path("manage/approvals/<int:pk>/approve/", views_manage.approval_approve, name="approve"),
    path("manage/approvals/<int:pk>/reject/", views_manage.approval_reject, name="reject"),
    path("manage/closures/", views_manage.closures, name="closures"),
    path("manage/closures/<int:pk>/", views_manage.closure_detail, name="closure-detail"),
    path(
        "manage/closures/<int:pk>/cancel-bookings/",
        views_manage.closure_cancel_bookings,
        name="closure-cancel-bookings",
    ),
    path("manage/front-desk/", views_manage.front_desk, name="front-desk"),
    path("manage/front-desk/print/", views_manage.front_desk_print, name="front-desk-print"),
]
