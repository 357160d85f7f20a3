//! The user-agent (browser) half of the Fetch CORS protocol (in progress).
