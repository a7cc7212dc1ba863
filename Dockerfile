# devops-tui as a container, for CI jobs that scan a mounted repository:
#   docker build -t devops-tui . && docker run --rm -v "$PWD:/repo:ro" devops-tui scan /repo
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY core ./core
COPY tui ./tui
COPY prompts ./prompts
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
RUN useradd --create-home --uid 10001 scanner
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels /wheels/devops_tui-*.whl && rm -rf /wheels
USER scanner
WORKDIR /repo
HEALTHCHECK --interval=5m CMD ["devops-tui", "--version"]
ENTRYPOINT ["devops-tui"]
CMD ["scan", "/repo"]
