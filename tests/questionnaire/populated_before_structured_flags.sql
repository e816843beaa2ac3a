-- Results as revision 1a0d5b776169 stored them: quality flags as lists plus English sentences.
-- Person 2 was careful, person 3 failed an attention check and answered a page too fast, and
-- person 4's straight-lining is in a wording the old sentences did not match.
INSERT INTO platform (id, issuer, client_id, name, auth_login_url, auth_token_url, key_set_url, created_dt, frame_origins)
  VALUES (1, 'https://moodle.example.edu', 'tool', 'Moodle', 'https://moodle.example.edu/auth', 'https://moodle.example.edu/token', 'https://moodle.example.edu/certs', '2026-11-01 10:00:00', '[]');
INSERT INTO course (id, platform_id, context_id, label, title, created_dt, updated_dt)
  VALUES (1, 1, '2', 'DMD101', 'Design course', '2026-11-01 10:00:00', '2026-11-01 10:00:00');
INSERT INTO person (id, platform_id, sub, name, created_dt, updated_dt) VALUES (2, 1, '2', 'Ada', '2026-11-01 10:00:00', '2026-11-01 10:00:00');
INSERT INTO person (id, platform_id, sub, name, created_dt, updated_dt) VALUES (3, 1, '3', 'Bo', '2026-11-01 10:00:00', '2026-11-01 10:00:00');
INSERT INTO person (id, platform_id, sub, name, created_dt, updated_dt) VALUES (4, 1, '4', 'Cy', '2026-11-01 10:00:00', '2026-11-01 10:00:00');
INSERT INTO resource_link (id, platform_id, course_id, resource_link_id, title, description, ags_scopes, created_dt, updated_dt)
  VALUES (1, 1, 1, 'link-1', 'Questionnaire', '', '[]', '2026-11-01 10:00:00', '2026-11-01 10:00:00');
INSERT INTO attempt (id, person_id, course_id, resource_link_id, instrument_id, instrument_version, number, started_dt, updated_dt, submitted_dt, current_page, page_seconds)
  VALUES (1, 2, 1, 1, 'design_mindset', 1, 1, '2026-11-02 09:00:00', '2026-11-02 09:10:00', '2026-11-02 09:10:00', 3, '{}');
INSERT INTO attempt (id, person_id, course_id, resource_link_id, instrument_id, instrument_version, number, started_dt, updated_dt, submitted_dt, current_page, page_seconds)
  VALUES (2, 3, 1, 1, 'design_mindset', 1, 1, '2026-11-02 09:00:00', '2026-11-02 09:10:00', '2026-11-02 09:10:00', 3, '{}');
INSERT INTO attempt (id, person_id, course_id, resource_link_id, instrument_id, instrument_version, number, started_dt, updated_dt, submitted_dt, current_page, page_seconds)
  VALUES (3, 4, 1, 1, 'design_mindset', 1, 1, '2026-11-02 09:00:00', '2026-11-02 09:10:00', '2026-11-02 09:10:00', 3, '{}');
INSERT INTO result (id, attempt_id, overall, dimension_scores, area_scores, quality_flags, scored_dt)
  VALUES (1, 1, 6.0, '{}', '{}', '{"failed_attention_checks": [], "straight_lined_pages": [], "too_fast_pages": [], "reasons": []}', '2026-11-02 09:10:00');
INSERT INTO result (id, attempt_id, overall, dimension_scores, area_scores, quality_flags, scored_dt)
  VALUES (2, 2, 6.0, '{}', '{}', '{"failed_attention_checks": ["check1"], "straight_lined_pages": [], "too_fast_pages": [3], "reasons": ["Attention check check1 asked for 3 (Somewhat disagree) and got 5 (Somewhat agree).", "Page 4 (Self) took 9.5 s for 12 statements, under 1.5 s each."]}', '2026-11-02 09:10:00');
INSERT INTO result (id, attempt_id, overall, dimension_scores, area_scores, quality_flags, scored_dt)
  VALUES (3, 3, 5.5, '{}', '{}', '{"failed_attention_checks": [], "straight_lined_pages": [1], "too_fast_pages": [], "reasons": ["Page 2 looked straight-lined."]}', '2026-11-02 09:10:00')
