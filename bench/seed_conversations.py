"""Seeds a ThiCode SQLite database for bench/api: USERNAME gets CONVERSATIONS conversations of MESSAGES messages each
(alternating user and assistant, about 100 characters each), as the app would have stored them.

    python3 bench/seed_conversations.py DB_FILE USERNAME CONVERSATIONS MESSAGES
"""
import sqlite3
import sys
import time

db, username, conversations, messages = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
con = sqlite3.connect(db)
(user_id,) = con.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()
now = int(time.time() * 1000)
text = "A sentence of about one hundred characters, the kind of thing people ask an assistant about code. "
for c in range(conversations):
    at = now - (conversations - c) * 60_000
    cur = con.execute(
        "INSERT INTO conversations (user_id, title, created_at, updated_at, message_count, last_message_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (user_id, f"Conversation {c + 1}", at, at, messages, at),
    )
    conversation_id = cur.lastrowid
    parent = None
    for m in range(messages):
        role = "user" if m % 2 == 0 else "assistant"
        cur = con.execute(
            "INSERT INTO messages (conversation_id, parent_id, role, content, status, created_at, updated_at, "
            "delivered_at, metadata) VALUES (?, ?, ?, ?, 'delivered', ?, ?, ?, ?)",
            (conversation_id, parent, role, f"{m + 1}. {text}", at + m, at + m, at + m,
             '{"model": "mistral-small-latest"}' if role == "assistant" else "{}"),
        )
        parent = cur.lastrowid
    con.execute("UPDATE conversations SET current_leaf_id = ? WHERE id = ?", (parent, conversation_id))
con.commit()
