"""The authorisation matrix's expected answers, a line per route and object owner (tests/security/test_authorisation_matrix.py).

Columns after the route and the owner: anon (not signed in), staff_a (a teacher of A, the lukio),
staff_b (a teacher of B, the vocational college), desk (the campus front desk), fm_a (a facility
manager of A), cmp_fm (a campus facility manager), admin_a (an institution admin of A), root (a
superuser) and expired (a former teacher of A whose membership ended yesterday). Owners: A, B,
campus (the shared auditorium and what is the campus's), - (no object), own, or a word saying what
the row tries (for-B: booking for B's institution; A-to-B: moving A's sensor into B's room).

``EXPECTED_TABLE``: the status each gets; ``login`` is a redirect to the sign-in page. On a write,
a 2xx or 302 carries ``*`` (the rows it aimed at changed) or ``=`` (they did not); any other status
means nothing changed, which the test checks too. ``TITLE_TABLE``: whether the answer holds the
title of A's booking (visible to its institution). ``LIST_TABLE``: whose objects (A, B, campus) a
list shows.
"""

EXPECTED_TABLE = """
# route                                                owner     anon    staff_a staff_b desk    fm_a    cmp_fm  admin_a root    expired
  GET /api/v1/me                                       -         401     200     200     200     200     200     200     200     200
  POST /api/v1/me/language                             -         401     200     200     200     200     200     200     200     200
  GET /api/v1/me/tokens                                -         401     200     200     200     200     200     200     200     200
  GET /api/v1/me/export                                -         401     200     200     200     200     200     200     200     200
  POST /api/v1/me/tokens                               -         401     201     201     201     201     201     201     201     201
  POST /api/v1/me/tokens/{token_id}/revoke             A         401     200*    404     404     404     404     404     404     404
  GET /api/v1/campuses                                 -         401     200     200     200     200     200     200     200     200
  GET /api/v1/institutions                             -         401     200     200     200     200     200     200     200     200
  GET /api/v1/buildings                                -         401     200     200     200     200     200     200     200     200
  GET /api/v1/equipment                                -         401     200     200     200     200     200     200     200     200
  GET /api/v1/rooms                                    -         401     200     200     200     200     200     200     200     200
  GET /api/v1/rooms/{room_id}                          A         401     200     200     200     200     200     200     200     200
  GET /api/v1/rooms/{room_id}                          B         401     200     200     200     200     200     200     200     200
  GET /api/v1/rooms/{room_id}                          campus    401     200     200     200     200     200     200     200     200
  GET /api/v1/rooms/{room_id}/availability             A         401     200     200     200     200     200     200     200     200
  GET /api/v1/rooms/{room_id}/availability             B         401     200     200     200     200     200     200     200     200
  GET /api/v1/rooms/{room_id}/availability             campus    401     200     200     200     200     200     200     200     200
  GET /api/v1/rooms/{room_id}/rules                    A         401     200     200     200     200     200     200     200     200
  GET /api/v1/rooms/{room_id}/rules                    B         401     200     200     200     200     200     200     200     200
  GET /api/v1/rooms/{room_id}/rules                    campus    401     200     200     200     200     200     200     200     200
  POST /api/v1/bookings                                A         401     201*    201*    201*    201*    201*    201*    201*    403
  POST /api/v1/bookings                                B         401     201*    201*    201*    201*    201*    201*    201*    403
  POST /api/v1/bookings                                campus    401     201*    201*    201*    201*    201*    201*    201*    403
  POST /api/v1/bookings                                for-B     401     403     201*    201*    403     201*    403     201*    403
  GET /api/v1/bookings                                 -         401     200     200     200     200     200     200     200     200
  GET /api/v1/bookings/{booking_id}                    A         401     200     200     200     200     200     200     200     200
  GET /api/v1/bookings/{booking_id}                    B         401     200     200     200     200     200     200     200     200
  GET /api/v1/bookings/{booking_id}                    campus    401     200     200     200     200     200     200     200     200
  PATCH /api/v1/bookings/{booking_id}                  A         401     200*    403     200*    200*    200*    403     200*    403
  PATCH /api/v1/bookings/{booking_id}                  B         401     403     200*    200*    403     200*    403     200*    403
  PATCH /api/v1/bookings/{booking_id}                  campus    401     200*    403     200*    403     200*    403     200*    403
  POST /api/v1/bookings/{booking_id}/cancel            A         401     200*    403     200*    200*    200*    403     200*    403
  POST /api/v1/bookings/{booking_id}/cancel            B         401     403     200*    200*    403     200*    403     200*    403
  POST /api/v1/bookings/{booking_id}/cancel            campus    401     200*    403     200*    403     200*    403     200*    403
  POST /api/v1/bookings/{booking_id}/release           A         401     409     403     409     409     409     403     409     403
  POST /api/v1/bookings/{booking_id}/release           B         401     403     409     409     403     409     403     409     403
  POST /api/v1/bookings/{booking_id}/release           campus    401     409     403     409     403     409     403     409     403
  POST /api/v1/bookings/{booking_id}/release           running   401     200*    403     200*    200*    200*    403     200*    403
  POST /api/v1/bookings/{booking_id}/check-in          A         401     409     403     409     409     409     403     409     403
  POST /api/v1/bookings/{booking_id}/check-in          B         401     403     409     409     403     409     403     409     403
  POST /api/v1/bookings/{booking_id}/check-in          campus    401     409     403     409     403     409     403     409     403
  POST /api/v1/bookings/{booking_id}/check-in          running   401     200*    403     200*    200*    200*    403     200*    403
  GET /api/v1/bookings/{booking_id}/history            A         401     200     403     200     200     200     200     200     403
  GET /api/v1/bookings/{booking_id}/history            B         401     403     200     200     403     200     403     200     403
  GET /api/v1/bookings/{booking_id}/history            campus    401     200     403     200     200     200     200     200     403
  POST /api/v1/bookings/{booking_id}/handover          A         401     200*    403     200*    200*    200*    403     200*    403
  POST /api/v1/bookings/{booking_id}/handover          B         401     403     200*    200*    403     200*    403     200*    403
  GET /api/v1/approvals                                -         401     200     200     200     200     200     200     200     200
  POST /api/v1/approvals/{booking_id}/approve          A         401     403     403     403     200*    403     403     200*    403
  POST /api/v1/approvals/{booking_id}/approve          B         401     403     403     403     403     403     403     200*    403
  POST /api/v1/approvals/{booking_id}/approve          campus    401     403     403     403     403     200*    403     200*    403
  POST /api/v1/approvals/{booking_id}/reject           A         401     403     403     403     200*    403     403     200*    403
  POST /api/v1/approvals/{booking_id}/reject           B         401     403     403     403     403     403     403     200*    403
  POST /api/v1/approvals/{booking_id}/reject           campus    401     403     403     403     403     200*    403     200*    403
  GET /api/v1/closures                                 -         401     200     200     200     200     200     200     200     200
  POST /api/v1/closures                                A         401     403     403     403     201*    201*    403     201*    403
  POST /api/v1/closures                                B         401     403     403     403     403     201*    403     201*    403
  POST /api/v1/closures                                campus    401     403     403     403     403     201*    403     201*    403
  POST /api/v1/closures                                building  401     403     403     403     403     201*    403     201*    403
  GET /api/v1/closures/{closure_id}/bookings           A         401     200     200     200     200     200     200     200     200
  GET /api/v1/closures/{closure_id}/bookings           B         401     200     200     200     200     200     200     200     200
  GET /api/v1/closures/{closure_id}/bookings           campus    401     200     200     200     200     200     200     200     200
  POST /api/v1/closures/{closure_id}/cancel-bookings   A         401     403     403     403     200=    200=    403     200=    403
  POST /api/v1/closures/{closure_id}/cancel-bookings   B         401     403     403     403     403     200=    403     200=    403
  POST /api/v1/closures/{closure_id}/cancel-bookings   campus    401     403     403     403     403     200=    403     200=    403
  GET /api/v1/terms                                    -         401     200     200     200     200     200     200     200     200
  POST /api/v1/terms                                   A         401     403     403     403     201*    403     201*    201*    403
  POST /api/v1/terms                                   B         401     403     403     403     403     403     403     201*    403
  POST /api/v1/terms                                   campus    401     403     403     403     403     201*    403     201*    403
  POST /api/v1/imports/ical                            A         401     403     403     403     201*    201*    403     201*    403
  POST /api/v1/imports/ical                            B         401     403     403     403     403     201*    403     201*    403
  POST /api/v1/imports/ical                            campus    401     403     403     403     403     201*    403     201*    403
  GET /api/v1/sensors                                  -         401     403     403     403     200     200     403     200     403
  POST /api/v1/sensors                                 A         401     403     403     403     201*    201*    403     201*    403
  POST /api/v1/sensors                                 B         401     403     403     403     403     201*    403     201*    403
  POST /api/v1/sensors                                 campus    401     403     403     403     403     201*    403     201*    403
  GET /api/v1/sensors/{sensor_id}                      A         401     403     403     403     200     200     403     200     403
  GET /api/v1/sensors/{sensor_id}                      B         401     403     403     403     404     200     403     200     403
  GET /api/v1/sensors/{sensor_id}                      campus    401     403     403     403     404     200     403     200     403
  PATCH /api/v1/sensors/{sensor_id}                    A         401     403     403     403     200*    200*    403     200*    403
  PATCH /api/v1/sensors/{sensor_id}                    B         401     403     403     403     404     200*    403     200*    403
  PATCH /api/v1/sensors/{sensor_id}                    campus    401     403     403     403     404     200*    403     200*    403
  PATCH /api/v1/sensors/{sensor_id}                    A-to-B    401     403     403     403     403     200*    403     200*    403
  GET /api/v1/sensors/{sensor_id}/readings             A         401     403     403     403     200     200     403     200     403
  GET /api/v1/sensors/{sensor_id}/readings             B         401     403     403     403     404     200     403     200     403
  GET /api/v1/sensors/{sensor_id}/readings             campus    401     403     403     403     404     200     403     200     403
  GET /api/v1/dead-letters                             -         401     403     403     403     200     200     403     200     403
  GET /api/v1/gateway-tokens                           -         401     403     403     403     200     200     403     200     403
  POST /api/v1/gateway-tokens                          campus    401     403     403     403     403     201*    403     201*    403
  POST /api/v1/gateway-tokens/{token_id}/revoke        campus    401     403     403     403     403     200*    403     200*    403
  POST /api/v1/readings                                -         401     401     401     401     401     401     401     401     401
  POST /api/v1/readings                                gateway   200     200     200     200     200     200     200     200     200
  GET /api/v1/reports/utilisation                      A         401     403     403     403     200     200     200     200     403
  GET /api/v1/reports/utilisation                      B         401     403     403     403     403     200     403     200     403
  GET /api/v1/reports/utilisation                      campus    401     403     403     403     403     200     403     200     403
  GET /api/v1/reports/heatmap                          A         401     403     403     403     200     200     200     200     403
  GET /api/v1/reports/heatmap                          B         401     403     403     403     403     200     403     200     403
  GET /api/v1/reports/heatmap                          campus    401     403     403     403     403     200     403     200     403
  GET /api/v1/reports/jobs/{job_id}                    A         401     403     403     403     200     200     200     200     403
  GET /api/v1/reports/jobs/{job_id}                    B         401     403     403     403     403     200     403     200     403
  GET /api/v1/reports/jobs/{job_id}                    campus    401     403     403     403     403     200     403     200     403

  GET page campus:home                                 -         200     200     200     200     200     200     200     200     200
  GET page campus:accessibility                        -         200     200     200     200     200     200     200     200     200
  GET page campus:privacy                              -         200     200     200     200     200     200     200     200     200
  GET page campus:favicon                              -         301     301     301     301     301     301     301     301     301
  GET page campus:profile                              -         login   200     200     200     200     200     200     200     200
  GET page campus:profile-data                         -         login   200     200     200     200     200     200     200     200
  GET page bookings:find-room                          -         login   200     200     200     200     200     200     200     200
  GET page bookings:new                                -         login   200     200     200     200     200     200     200     200
  GET page bookings:mine                               -         login   200     200     200     200     200     200     200     200
  GET page manage:approvals                            -         login   403     403     403     200     200     403     200     403
  GET page manage:closures                             -         login   403     403     403     200     200     403     200     403
  GET page manage:import                               -         login   403     403     403     200     200     403     200     403
  GET page manage:front-desk                           -         login   403     403     200     200     200     403     200     403
  GET page manage:front-desk-print                     -         login   403     403     200     200     200     403     200     403
  GET page calendar:subscribe                          -         login   200     200     200     200     200     200     200     200
  GET page sensors:list                                -         login   403     403     403     200     200     403     200     403
  GET page sensors:dead-letters                        -         login   403     403     403     200     200     403     200     403
  GET page utilisation:dashboard                       -         login   403     403     403     200     200     200     200     403
  GET page login                                       -         200     200     200     200     200     200     200     200     200
  GET page password_change                             -         login   200     200     200     200     200     200     200     200
  GET page password_change_done                        -         login   200     200     200     200     200     200     200     200
  GET page password_reset                              -         200     200     200     200     200     200     200     200     200
  GET page password_reset_done                         -         200     200     200     200     200     200     200     200     200
  GET page password_reset_complete                     -         200     200     200     200     200     200     200     200     200
  GET page password_reset_confirm                      -         200     200     200     200     200     200     200     200     200
  POST page logout                                     -         302     302     302     302     302     302     302     302     302
  POST page set_language                               -         302     302     302     302     302     302     302     302     302
  POST page campus:profile-token-revoke                A         login   302*    404     404     404     404     404     404     404
  GET page bookings:room-detail                        A         login   200     200     200     200     200     200     200     200
  GET page bookings:room-detail                        B         login   200     200     200     200     200     200     200     200
  GET page bookings:room-detail                        campus    login   200     200     200     200     200     200     200     200
  GET page bookings:room-print                         A         login   200     200     200     200     200     200     200     200
  GET page bookings:room-print                         B         login   200     200     200     200     200     200     200     200
  GET page bookings:room-print                         campus    login   200     200     200     200     200     200     200     200
  POST page bookings:preview                           A         login   200     200     200     200     200     200     200     200
  GET page bookings:detail                             A         login   200     200     200     200     200     200     200     200
  GET page bookings:detail                             B         login   200     200     200     200     200     200     200     200
  GET page bookings:detail                             campus    login   200     200     200     200     200     200     200     200
  GET page bookings:edit                               A         login   200     403     200     200     200     403     200     403
  GET page bookings:edit                               B         login   403     200     200     403     200     403     200     403
  GET page bookings:edit                               campus    login   200     403     200     403     200     403     200     403
  GET page bookings:cancel                             A         login   200     403     200     200     200     403     200     403
  GET page bookings:cancel                             B         login   403     200     200     403     200     403     200     403
  GET page bookings:cancel                             campus    login   200     403     200     403     200     403     200     403
  GET page bookings:release                            A         login   200     403     200     200     200     403     200     403
  GET page bookings:release                            B         login   403     200     200     403     200     403     200     403
  GET page bookings:release                            campus    login   200     403     200     403     200     403     200     403
  POST page bookings:edit                              A         login   200=    403     200=    200=    200=    403     200=    403
  POST page bookings:edit                              B         login   403     200=    200=    403     200=    403     200=    403
  POST page bookings:edit                              campus    login   200=    403     200=    403     200=    403     200=    403
  POST page bookings:cancel                            A         login   302*    403     302*    302*    302*    403     302*    403
  POST page bookings:cancel                            B         login   403     302*    302*    403     302*    403     302*    403
  POST page bookings:cancel                            campus    login   302*    403     302*    403     302*    403     302*    403
  POST page bookings:release                           A         login   409     403     409     409     409     403     409     403
  POST page bookings:release                           B         login   403     409     409     403     409     403     409     403
  POST page bookings:release                           campus    login   409     403     409     403     409     403     409     403
  POST page bookings:release                           running   login   302*    403     302*    302*    302*    403     302*    403
  POST page bookings:check-in                          A         login   302=    403     302=    302=    302=    403     302=    403
  POST page bookings:check-in                          B         login   403     302=    302=    403     302=    403     302=    403
  POST page bookings:check-in                          campus    login   302=    403     302=    403     302=    403     302=    403
  POST page bookings:check-in                          running   login   302*    403     302*    302*    302*    403     302*    403
  GET page bookings:handover                           A         login   200     403     200     200     200     403     200     403
  GET page bookings:handover                           B         login   403     200     200     403     200     403     200     403
  POST page bookings:handover                          A         login   302*    403     302*    302*    302*    403     302*    403
  POST page bookings:handover                          B         login   403     302*    302*    403     302*    403     302*    403
  POST page manage:approve                             A         login   403     403     403     302*    403     403     302*    403
  POST page manage:approve                             B         login   403     403     403     403     403     403     302*    403
  POST page manage:approve                             campus    login   403     403     403     403     302*    403     302*    403
  POST page manage:reject                              A         login   403     403     403     302*    403     403     302*    403
  POST page manage:reject                              B         login   403     403     403     403     403     403     302*    403
  POST page manage:reject                              campus    login   403     403     403     403     302*    403     302*    403
  GET page manage:closure-detail                       A         login   403     403     403     200     200     403     200     403
  GET page manage:closure-detail                       B         login   403     403     403     200     200     403     200     403
  GET page manage:closure-detail                       campus    login   403     403     403     200     200     403     200     403
  POST page manage:closure-cancel-bookings             A         login   403     403     403     302=    302=    403     302=    403
  POST page manage:closure-cancel-bookings             B         login   403     403     403     403     302=    403     302=    403
  POST page manage:closure-cancel-bookings             campus    login   403     403     403     403     302=    403     302=    403
  GET page calendar:regenerate                         A         login   200     404     200     200     200     200     200     404
  GET page calendar:regenerate                         B         login   404     200     200     404     200     404     200     404
  GET page calendar:booking                            A         login   200     200     200     200     200     200     200     200
  GET page calendar:booking                            B         login   200     200     200     200     200     200     200     200
  GET page calendar:booking                            campus    login   200     200     200     200     200     200     200     200

  GET feed calendar:feed institution                   A         404     200     404     200     200     200     200     200     404
  GET feed calendar:feed institution                   B         404     404     200     200     404     200     404     200     404
  GET feed calendar:feed room                          A         404     200     200     200     200     200     200     200     200
  GET feed calendar:feed room                          B         404     200     200     200     200     200     200     200     200
  GET feed calendar:feed room                          campus    404     200     200     200     200     200     200     200     200
  GET feed calendar:feed person                        own       404     200     200     200     200     200     200     200     200
  GET feed calendar:feed person                        A         404     200     404     404     404     404     404     404     404
  GET feed calendar:feed wrong key                     A         404     404     404     404     404     404     404     404     404
  GET feed calendar:public-room                        A         404     404     404     404     404     404     404     404     404
  GET feed calendar:public-room                        campus    200     200     200     200     200     200     200     200     200
  GET door door:display                                A         200     200     200     200     200     200     200     200     200
  GET door door:display                                B         200     200     200     200     200     200     200     200     200
  POST door door:check-in another room's booking       B         404     404     404     404     404     404     404     404     404
  GET door door:display wrong token                    A         404     404     404     404     404     404     404     404     404
  POST door door:check-in                              A         409     409     409     409     409     409     409     409     409
  POST door door:check-in                              B         409     409     409     409     409     409     409     409     409

  GET page api-v1:api-root                             -         404     404     404     404     404     404     404     404     404
  GET page api-v1:openapi-json                         -         200     200     200     200     200     200     200     200     200
  GET page api-v1:openapi-view                         -         200     200     200     200     200     200     200     200     200
  GET page admin:index                                 -         login   login   login   login   200     200     200     200     login
  GET page admin:campus_membership_import              -         login   login   login   login   403     403     200     200     login

  GET admin campus.campus changelist                   -         login   login   login   login   200     200     200     200     login
  GET admin campus.institution changelist              -         login   login   login   login   200     200     200     200     login
  GET admin campus.building changelist                 -         login   login   login   login   200     200     200     200     login
  GET admin campus.room changelist                     -         login   login   login   login   200     200     200     200     login
  GET admin campus.equipment changelist                -         login   login   login   login   200     200     200     200     login
  GET admin campus.membership changelist               -         login   login   login   login   403     200     200     200     login
  GET admin campus.user changelist                     -         login   login   login   login   200     200     200     200     login
  GET admin campus.termperiod changelist               -         login   login   login   login   200     200     200     200     login
  GET admin bookings.booking changelist                -         login   login   login   login   200     200     403     200     login
  GET admin bookings.bookingseries changelist          -         login   login   login   login   200     200     403     200     login
  GET admin bookings.bookingpolicy changelist          -         login   login   login   login   200     200     200     200     login
  GET admin bookings.closure changelist                -         login   login   login   login   200     200     200     200     login
  GET admin bookings.bookingevent changelist           -         login   login   login   login   200     200     403     200     login
  GET admin bookings.notification changelist           -         login   login   login   login   200     200     403     200     login
  GET admin sensors.sensor changelist                  -         login   login   login   login   200     200     403     200     login
  GET admin sensors.reading changelist                 -         login   login   login   login   200     200     403     200     login
  GET admin sensors.deadletter changelist              -         login   login   login   login   200     200     403     200     login
  GET admin sensors.ingesttoken changelist             -         login   login   login   login   403     200     403     200     login
  GET admin utilisation.roomslot changelist            -         login   login   login   login   200     200     403     200     login
  GET admin utilisation.corehours changelist           -         login   login   login   login   403     200     403     200     login
  GET admin utilisation.doordisplay changelist         -         login   login   login   login   200     200     403     200     login
  GET admin api.apitoken changelist                    -         login   login   login   login   403     403     403     200     login
  GET admin auth.group changelist                      -         login   login   login   login   403     403     403     200     login
  GET admin django_q.schedule changelist               -         login   login   login   login   403     403     403     200     login
  GET admin django_q.success changelist                -         login   login   login   login   403     403     403     200     login
  GET admin django_q.failure changelist                -         login   login   login   login   403     403     403     200     login
  GET admin django_q.ormq changelist                   -         login   login   login   login   403     403     403     200     login
  GET admin axes.accessattempt changelist              -         login   login   login   login   403     403     403     200     login
  GET admin axes.accesslog changelist                  -         login   login   login   login   403     403     403     200     login
  GET admin axes.accessfailurelog changelist           -         login   login   login   login   403     403     403     200     login
  GET admin campus.campus change                       campus    login   login   login   login   200     200     200     200     login
  GET admin campus.institution change                  A         login   login   login   login   200     200     200     200     login
  GET admin campus.institution change                  B         login   login   login   login   200     200     200     200     login
  GET admin campus.building change                     campus    login   login   login   login   200     200     200     200     login
  GET admin campus.room change                         A         login   login   login   login   200     200     200     200     login
  GET admin campus.room change                         B         login   login   login   login   200     200     200     200     login
  GET admin campus.room change                         campus    login   login   login   login   200     200     200     200     login
  GET admin campus.equipment change                    campus    login   login   login   login   200     200     200     200     login
  GET admin campus.membership change                   A         login   login   login   login   403     200     200     200     login
  GET admin campus.membership change                   B         login   login   login   login   403     200     302     200     login
  GET admin campus.user change                         A         login   login   login   login   200     200     200     200     login
  GET admin campus.user change                         B         login   login   login   login   200     200     200     200     login
  GET admin campus.termperiod change                   A         login   login   login   login   200     302     200     200     login
  GET admin campus.termperiod change                   B         login   login   login   login   302     302     302     200     login
  GET admin bookings.booking change                    A         login   login   login   login   200     200     403     200     login
  GET admin bookings.booking change                    B         login   login   login   login   302     200     403     200     login
  GET admin bookings.booking change                    campus    login   login   login   login   200     200     403     200     login
  GET admin bookings.bookingseries change              A         login   login   login   login   200     200     403     200     login
  GET admin bookings.bookingseries change              B         login   login   login   login   302     200     403     200     login
  GET admin bookings.bookingpolicy change              A         login   login   login   login   200     200     302     200     login
  GET admin bookings.bookingpolicy change              B         login   login   login   login   302     200     302     200     login
  GET admin bookings.bookingpolicy change              campus    login   login   login   login   302     200     302     200     login
  GET admin bookings.closure change                    A         login   login   login   login   200     200     200     200     login
  GET admin bookings.closure change                    B         login   login   login   login   200     200     200     200     login
  GET admin bookings.closure change                    campus    login   login   login   login   200     200     200     200     login
  GET admin bookings.bookingevent change               A         login   login   login   login   200     200     403     200     login
  GET admin bookings.bookingevent change               B         login   login   login   login   302     200     403     200     login
  GET admin bookings.bookingevent change               campus    login   login   login   login   200     200     403     200     login
  GET admin bookings.notification change               A         login   login   login   login   200     200     403     200     login
  GET admin bookings.notification change               B         login   login   login   login   302     200     403     200     login
  GET admin bookings.notification change               campus    login   login   login   login   200     200     403     200     login
  GET admin sensors.sensor change                      A         login   login   login   login   200     200     403     200     login
  GET admin sensors.sensor change                      B         login   login   login   login   302     200     403     200     login
  GET admin sensors.sensor change                      campus    login   login   login   login   302     200     403     200     login
  GET admin sensors.reading change                     A         login   login   login   login   200     200     403     200     login
  GET admin sensors.reading change                     B         login   login   login   login   302     200     403     200     login
  GET admin sensors.reading change                     campus    login   login   login   login   302     200     403     200     login
  GET admin sensors.deadletter change                  A         login   login   login   login   200     200     403     200     login
  GET admin sensors.deadletter change                  B         login   login   login   login   302     200     403     200     login
  GET admin sensors.deadletter change                  campus    login   login   login   login   302     200     403     200     login
  GET admin sensors.ingesttoken change                 campus    login   login   login   login   403     200     403     200     login
  GET admin utilisation.roomslot change                A         login   login   login   login   200     200     403     200     login
  GET admin utilisation.roomslot change                B         login   login   login   login   302     200     403     200     login
  GET admin utilisation.roomslot change                campus    login   login   login   login   302     200     403     200     login
  GET admin utilisation.corehours change               campus    login   login   login   login   403     200     403     200     login
  GET admin utilisation.doordisplay change             A         login   login   login   login   200     200     403     200     login
  GET admin utilisation.doordisplay change             B         login   login   login   login   302     200     403     200     login
  GET admin utilisation.doordisplay change             campus    login   login   login   login   302     200     403     200     login
  GET admin api.apitoken change                        A         login   login   login   login   403     403     403     200     login
  GET admin api.apitoken change                        B         login   login   login   login   403     403     403     200     login
  POST admin campus.institution change                 A         login   login   login   login   403     403     403     200=    login
  POST admin campus.institution change                 B         login   login   login   login   403     403     403     200=    login
  POST admin campus.institution delete                 A         login   login   login   login   403     403     403     200=    login
  POST admin campus.institution delete                 B         login   login   login   login   403     403     403     200=    login
  POST admin campus.room change                        A         login   login   login   login   200=    200=    403     200=    login
  POST admin campus.room change                        B         login   login   login   login   403     200=    403     200=    login
  POST admin campus.room change                        campus    login   login   login   login   403     200=    403     200=    login
  POST admin campus.room delete                        A         login   login   login   login   403     403     403     200=    login
  POST admin campus.room delete                        B         login   login   login   login   403     403     403     200=    login
  POST admin campus.room delete                        campus    login   login   login   login   403     403     403     200=    login
  POST admin campus.membership change                  A         login   login   login   login   403     403     200=    200=    login
  POST admin campus.membership change                  B         login   login   login   login   403     403     302=    200=    login
  POST admin campus.membership delete                  A         login   login   login   login   403     403     302*    302*    login
  POST admin campus.membership delete                  B         login   login   login   login   403     403     302=    302*    login
  POST admin campus.user change                        A         login   login   login   login   403     403     403     200=    login
  POST admin campus.user change                        B         login   login   login   login   403     403     403     200=    login
  POST admin campus.user delete                        A         login   login   login   login   403     403     403     302*    login
  POST admin campus.user delete                        B         login   login   login   login   403     403     403     302*    login
  POST admin campus.termperiod change                  A         login   login   login   login   200=    302=    200=    200=    login
  POST admin campus.termperiod change                  B         login   login   login   login   302=    302=    302=    200=    login
  POST admin campus.termperiod delete                  A         login   login   login   login   302*    302=    302*    302*    login
  POST admin campus.termperiod delete                  B         login   login   login   login   302=    302=    302=    302*    login
  POST admin bookings.booking change                   A         login   login   login   login   200=    200=    403     200=    login
  POST admin bookings.booking change                   B         login   login   login   login   302=    200=    403     200=    login
  POST admin bookings.booking change                   campus    login   login   login   login   200=    200=    403     200=    login
  POST admin bookings.booking delete                   A         login   login   login   login   403     403     403     403     login
  POST admin bookings.booking delete                   B         login   login   login   login   403     403     403     403     login
  POST admin bookings.booking delete                   campus    login   login   login   login   403     403     403     403     login
  POST admin bookings.bookingpolicy change             A         login   login   login   login   200=    200=    403     200=    login
  POST admin bookings.bookingpolicy change             B         login   login   login   login   302=    200=    403     200=    login
  POST admin bookings.bookingpolicy change             campus    login   login   login   login   302=    200=    403     200=    login
  POST admin bookings.bookingpolicy delete             A         login   login   login   login   302*    302*    403     302*    login
  POST admin bookings.bookingpolicy delete             B         login   login   login   login   302=    302*    403     302*    login
  POST admin bookings.bookingpolicy delete             campus    login   login   login   login   302=    302*    403     302*    login
  POST admin bookings.closure change                   A         login   login   login   login   403     302=    403     302=    login
  POST admin bookings.closure change                   B         login   login   login   login   403     302=    403     302=    login
  POST admin bookings.closure change                   campus    login   login   login   login   403     302=    403     302=    login
  POST admin bookings.closure delete                   A         login   login   login   login   403     403     403     302*    login
  POST admin bookings.closure delete                   B         login   login   login   login   403     403     403     302*    login
  POST admin bookings.closure delete                   campus    login   login   login   login   403     403     403     302*    login
  POST admin sensors.sensor change                     A         login   login   login   login   200=    200=    403     200=    login
  POST admin sensors.sensor change                     B         login   login   login   login   302=    200=    403     200=    login
  POST admin sensors.sensor change                     campus    login   login   login   login   302=    200=    403     200=    login
  POST admin sensors.sensor delete                     A         login   login   login   login   403     403     403     302*    login
  POST admin sensors.sensor delete                     B         login   login   login   login   403     403     403     302*    login
  POST admin sensors.sensor delete                     campus    login   login   login   login   403     403     403     302*    login
  POST admin utilisation.doordisplay change            A         login   login   login   login   302=    302=    403     302=    login
  POST admin utilisation.doordisplay change            B         login   login   login   login   302=    302=    403     302=    login
  POST admin utilisation.doordisplay change            campus    login   login   login   login   302=    302=    403     302=    login
  POST admin utilisation.doordisplay delete            A         login   login   login   login   403     403     403     302*    login
  POST admin utilisation.doordisplay delete            B         login   login   login   login   403     403     403     302*    login
  POST admin utilisation.doordisplay delete            campus    login   login   login   login   403     403     403     302*    login
  POST admin api.apitoken change                       A         login   login   login   login   403     403     403     200=    login
  POST admin api.apitoken change                       B         login   login   login   login   403     403     403     200=    login
  POST admin api.apitoken delete                       A         login   login   login   login   403     403     403     302*    login
  POST admin api.apitoken delete                       B         login   login   login   login   403     403     403     302*    login
  POST admin sensors.sensor add                        A         login   login   login   login   302*    302*    403     302*    login
  POST admin sensors.sensor add                        B         login   login   login   login   200=    302*    403     302*    login
  POST admin sensors.sensor add                        campus    login   login   login   login   200=    302*    403     302*    login
  POST admin utilisation.doordisplay add               A         login   login   login   login   200*    200*    403     200*    login
  POST admin utilisation.doordisplay add               B         login   login   login   login   200=    200*    403     200*    login
  POST admin utilisation.doordisplay add               campus    login   login   login   login   200=    200*    403     200*    login
  POST admin campus.membership add                     A         login   login   login   login   403     403     302*    302*    login
  POST admin campus.membership add                     B         login   login   login   login   403     403     200=    302*    login
  POST admin campus.membership add                     campus    login   login   login   login   403     403     200=    302*    login
  POST admin campus.termperiod add                     A         login   login   login   login   302*    200=    302*    302*    login
  POST admin campus.termperiod add                     B         login   login   login   login   200=    200=    200=    302*    login
  POST admin campus.termperiod add                     campus    login   login   login   login   200=    302*    200=    302*    login
"""

TITLE_TABLE = """
# route                                                owner     anon    staff_a staff_b desk    fm_a    cmp_fm  admin_a root    expired
  GET /api/v1/bookings/{booking_id}                    A         -       title   -       title   title   title   title   title   -
  GET /api/v1/bookings                                 A         -       title   -       title   title   title   title   title   -
  GET /api/v1/closures/{closure_id}/bookings           A         -       title   -       title   title   title   title   title   -

  GET page bookings:detail                             A         -       title   -       title   title   title   title   title   -
  GET page calendar:booking                            A         -       title   -       title   title   title   title   title   -

  GET feed calendar:feed room                          A         -       title   -       title   title   title   title   title   -
"""

LIST_TABLE = """
# route                                                owner     anon       staff_a    staff_b    desk       fm_a       cmp_fm     admin_a    root       expired
  GET /api/v1/sensors                                  -         -          -          -          -          A          A,B,campus -          A,B,campus -
  GET /api/v1/dead-letters                             -         -          -          -          -          A          A,B,campus -          A,B,campus -
  GET /api/v1/approvals                                -         -          -          -          -          A          campus     -          A,B,campus -

  GET page manage:approvals                            -         -          -          -          -          A          campus     -          A,B,campus -
  GET page manage:closures                             -         -          -          -          -          A,B,campus A,B,campus -          A,B,campus -
  GET page sensors:list                                -         -          -          -          -          A          A,B,campus -          A,B,campus -
  GET page sensors:dead-letters                        -         -          -          -          -          A          A,B,campus -          A,B,campus -

  GET admin campus.campus changelist                   -         -          -          -          -          campus     campus     campus     campus     -
  GET admin campus.institution changelist              -         -          -          -          -          A,B        A,B        A,B        A,B        -
  GET admin campus.building changelist                 -         -          -          -          -          campus     campus     campus     campus     -
  GET admin campus.room changelist                     -         -          -          -          -          A,B,campus A,B,campus A,B,campus A,B,campus -
  GET admin campus.equipment changelist                -         -          -          -          -          campus     campus     campus     campus     -
  GET admin campus.membership changelist               -         -          -          -          -          -          A,B        A          A,B        -
  GET admin campus.user changelist                     -         -          -          -          -          A,B        A,B        A,B        A,B        -
  GET admin campus.termperiod changelist               -         -          -          -          -          A          -          A          A,B        -
  GET admin bookings.booking changelist                -         -          -          -          -          A,campus   A,B,campus -          A,B,campus -
  GET admin bookings.bookingseries changelist          -         -          -          -          -          A          A,B        -          A,B        -
  GET admin bookings.bookingpolicy changelist          -         -          -          -          -          A          A,B,campus -          A,B,campus -
  GET admin bookings.closure changelist                -         -          -          -          -          A,B,campus A,B,campus A,B,campus A,B,campus -
  GET admin bookings.bookingevent changelist           -         -          -          -          -          A,campus   A,B,campus -          A,B,campus -
  GET admin bookings.notification changelist           -         -          -          -          -          A,campus   A,B,campus -          A,B,campus -
  GET admin sensors.sensor changelist                  -         -          -          -          -          A          A,B,campus -          A,B,campus -
  GET admin sensors.reading changelist                 -         -          -          -          -          A          A,B,campus -          A,B,campus -
  GET admin sensors.deadletter changelist              -         -          -          -          -          A          A,B,campus -          A,B,campus -
  GET admin sensors.ingesttoken changelist             -         -          -          -          -          -          campus     -          campus     -
  GET admin utilisation.roomslot changelist            -         -          -          -          -          A          A,B,campus -          A,B,campus -
  GET admin utilisation.corehours changelist           -         -          -          -          -          -          campus     -          campus     -
  GET admin utilisation.doordisplay changelist         -         -          -          -          -          A          A,B,campus -          A,B,campus -
  GET admin api.apitoken changelist                    -         -          -          -          -          -          -          -          A,B        -
"""
