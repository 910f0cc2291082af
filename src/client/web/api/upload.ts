import { asSentence } from '../lib/sentence.js';
import { AgentDown, AgentError } from './agent.js';
import { problem, uploadAnswer, type ImageView } from './schemas.js';

const DECLARABLE = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif', 'image/tiff']);

/**
 * Sends a picture as the request body. XMLHttpRequest rather than fetch: only it reports upload
 * progress. The agent checks the bytes themselves whatever type is declared.
 */
export function uploadImage(recordId: string, file: File, onProgress: (sent: number, total: number) => void): Promise<ImageView> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1/records/${encodeURIComponent(recordId)}/images?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader('content-type', DECLARABLE.has(file.type) ? file.type : 'application/octet-stream');
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    xhr.onerror = () => reject(new AgentDown());
    xhr.onload = () => {
      let json: unknown;
      try {
        json = JSON.parse(xhr.responseText);
      } catch {
        json = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        const parsed = uploadAnswer.safeParse(json);
        if (parsed.success) resolve(parsed.data.image);
        else reject(new AgentError('damaged', xhr.status, "The agent's answer is not in the form this page expects; reload the page."));
        return;
      }
      const refused = problem.safeParse(json);
      reject(refused.success ? new AgentError(refused.data.kind, xhr.status, asSentence(refused.data.detail)) : new AgentError('failed', xhr.status, `The agent answered ${xhr.status} without saying why.`));
    };
    xhr.send(file);
  });
}
