/** What every contender prints as its last stdout line. */
export interface Figures {
  name: string;
  pages: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
}

export function report(name: string, pages: number, startedAt: number, cpuAtStart: NodeJS.CpuUsage): void {
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  const figures: Figures = {
    name,
    pages,
    seconds: Number(seconds.toFixed(3)),
    cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
    peakRssMb: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
