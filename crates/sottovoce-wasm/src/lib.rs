//! Browser binding of sottovoce: translates between JavaScript values and the core, and keeps
//! the conversation state in `localStorage` through gloo-storage. No chatbot logic lives here.
