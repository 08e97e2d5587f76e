-- Notes belong to users
CREATE TABLE IF NOT EXISTS notes
(
    id      INTEGER PRIMARY KEY NOT NULL,
    user_id INTEGER             NOT NULL REFERENCES users (id),
    body    TEXT                NOT NULL
);
INSERT INTO users (id, username) VALUES (1, 'kim'), (2, 'lee');
INSERT INTO notes (user_id, body) VALUES (1, 'hello'), (1, 'semi;colon'), (2, 'bye');
