/** Whether the server under test has a route yet (issues 3 and 4 land separately). */

export async function routeMissing(baseUrl: string, projectId: string, apiKey: string, route: string): Promise<boolean> {
  const response = await fetch(`${baseUrl}/v7/${projectId}/auth/${route}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
    body: "{}",
  });
  if (response.status !== 404) return false;
  const body = (await response.json().catch(() => ({}))) as { code?: string };
  return body.code === "route/not-found";
}
