-- A course as revision 8c2dc2078ee9 left it: a mentor's and a learner's launch, one session
-- with a note of each kind that schema had ("private": for the course's mentors).
INSERT INTO platform (id, issuer, client_id, name, auth_login_url, auth_token_url, key_set_url, created_dt, frame_origins)
  VALUES (1, 'https://moodle.example.edu', 'tool', 'Moodle', 'https://moodle.example.edu/auth', 'https://moodle.example.edu/token', 'https://moodle.example.edu/certs', '2026-11-01 10:00:00', '[]');
INSERT INTO deployment (id, platform_id, deployment_id, created_dt) VALUES (1, 1, '1', '2026-11-01 10:00:00');
INSERT INTO course (id, platform_id, context_id, label, title, created_dt, updated_dt)
  VALUES (1, 1, '2', 'DMD101', 'Design course', '2026-11-01 10:00:00', '2026-11-01 10:00:00');
INSERT INTO person (id, platform_id, sub, name, created_dt, updated_dt)
  VALUES (1, 1, '2', 'Maja Mentor', '2026-11-01 10:00:00', '2026-11-01 10:00:00');
INSERT INTO person (id, platform_id, sub, name, created_dt, updated_dt)
  VALUES (2, 1, '3', 'Lena Learner', '2026-11-01 10:00:00', '2026-11-01 10:00:00');
INSERT INTO launch_session (id, person_id, deployment_id, course_id, role, message_type, claims, created_dt, expires_dt)
  VALUES ('mentor-session', 1, 1, 1, 'mentor', 'LtiResourceLinkRequest', '{}', '2026-11-02 09:00:00', '2026-11-02 13:00:00');
INSERT INTO launch_session (id, person_id, deployment_id, course_id, role, message_type, claims, created_dt, expires_dt)
  VALUES ('learner-session', 2, 1, 1, 'learner', 'LtiResourceLinkRequest', '{}', '2026-11-02 09:00:00', '2026-11-02 13:00:00');
INSERT INTO mentoring_session (id, uid, sequence, course_id, mentor_id, learner_id, start_dt, end_dt, mode, location, meeting_url, agenda, learner_questions, status, cancel_reason, created_by_id, created_dt, updated_dt)
  VALUES (1, 'session-1@example.edu', 0, 1, 1, 2, '2026-11-05 09:00:00', '2026-11-05 10:30:00', 'in_person', 'Room 2.14', '', 'Empathy', '', 'attended', '', 1, '2026-11-02 09:05:00', '2026-11-02 09:05:00');
INSERT INTO mentoring_note (id, session_id, author_id, visibility, body, created_dt)
  VALUES (1, 1, 1, 'private', 'Mentors only, as it always meant', '2026-11-05 10:30:00');
INSERT INTO mentoring_note (id, session_id, author_id, visibility, body, created_dt)
  VALUES (2, 1, 1, 'shared', 'Shared with the learner', '2026-11-05 10:31:00')
