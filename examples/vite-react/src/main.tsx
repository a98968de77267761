import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ChatBox } from "./ChatBox";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <ChatBox model={`${import.meta.env.BASE_URL}store.common.svm`} locale="en" />
  </StrictMode>,
);
