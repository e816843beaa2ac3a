-- A course as revision 1a0d5b776169 left it: a mentor, a learner, three goals: one whose
-- progress the mentor set by hand (70), one following its action plan, one whose title is a
-- whole suggestion.
INSERT INTO platform (id, issuer, client_id, name, auth_login_url, auth_token_url, key_set_url, created_dt, frame_origins)
  VALUES (1, 'https://moodle.example.edu', 'tool', 'Moodle', 'https://moodle.example.edu/auth', 'https://moodle.example.edu/token', 'https://moodle.example.edu/certs', '2026-11-01 10:00:00', '[]');
INSERT INTO course (id, platform_id, context_id, label, title, created_dt, updated_dt)
  VALUES (1, 1, '2', 'DMD101', 'Design course', '2026-11-01 10:00:00', '2026-11-01 10:00:00');
INSERT INTO person (id, platform_id, sub, name, created_dt, updated_dt)
  VALUES (1, 1, '2', 'Maja Mentor', '2026-11-01 10:00:00', '2026-11-01 10:00:00');
INSERT INTO person (id, platform_id, sub, name, created_dt, updated_dt)
  VALUES (2, 1, '3', 'Lena Learner', '2026-11-01 10:00:00', '2026-11-01 10:00:00');
INSERT INTO mentoring_goal (id, course_id, learner_id, created_by_id, title, dimension_ids, specific, measurable, achievable, relevant, target_date, status, progress, progress_from_actions, created_dt, updated_dt)
  VALUES (1, 1, 2, 1, 'Interview three users', '["empathy"]', '', '', '', '', '2026-12-20', 'active', 70, false, '2026-11-02 09:00:00', '2026-11-20 15:00:00');
INSERT INTO mentoring_goal (id, course_id, learner_id, created_by_id, title, dimension_ids, specific, measurable, achievable, relevant, target_date, status, progress, progress_from_actions, created_dt, updated_dt)
  VALUES (2, 1, 2, 1, 'Sketch daily', '["experimentation"]', '', '', '', '', '2026-12-20', 'active', 50, true, '2026-11-02 09:00:00', '2026-11-02 09:00:00');
INSERT INTO mentoring_goal (id, course_id, learner_id, created_by_id, title, dimension_ids, specific, measurable, achievable, relevant, target_date, status, progress, progress_from_actions, created_dt, updated_dt)
  VALUES (3, 1, 2, 1, 'Before each project meeting write down three questions that begin with why or what if, and ask at least one', '["questioning"]', '', '', '', '', '2026-12-20', 'active', 0, true, '2026-11-02 09:00:00', '2026-11-02 09:00:00')
