"""Pages for facility managers and the front desk."""

from django.urls import path

from bookings import views_import, views_manage

urlpatterns = [
    path("manage/approvals/", views_manage.approvals, name="manage-approvals"),
    path("manage/approvals/<int:pk>/approve/", views_manage.approval_approve, name="manage-approve"),
    path("manage/approvals/<int:pk>/reject/", views_manage.approval_reject, name="manage-reject"),
    path("manage/closures/", views_manage.closures, name="manage-closures"),
    path("manage/closures/<int:pk>/", views_manage.closure_detail, name="manage-closure-detail"),
    path(
        "manage/closures/<int:pk>/cancel-bookings/",
        views_manage.closure_cancel_bookings,
        name="manage-closure-cancel-bookings",
    ),
    path("manage/import/", views_import.ical_import, name="manage-import"),
    path("manage/front-desk/", views_manage.front_desk, name="front-desk"),
    path("manage/front-desk/print/", views_manage.front_desk_print, name="front-desk-print"),
]
